package fr.mesures.serveur.storage;

import fr.mesures.protocole.Reading;
import java.util.Arrays;

/**
 * Readings in columns, as a store writes them: one array per field, no object per reading.
 *
 * <p>{@link #receivedAt()} is shared by the whole block (the readings arrived in the same selector round). A
 * timestamp of {@link Reading#NO_TIMESTAMP} must be replaced before the block reaches a store. Mutable and
 * owned by one thread at a time, like the batch that holds it.
 */
public final class ReadingBlock {

    private String[] capteurIds;
    private double[] temperatures;
    private long[] timestamps;
    private int size;
    private long receivedAt;

    public ReadingBlock(int capacity) {
        int initial = Math.max(8, capacity);
        capteurIds = new String[initial];
        temperatures = new double[initial];
        timestamps = new long[initial];
    }

    public void add(String capteurId, double temperature, long timestamp) {
        if (size == capteurIds.length) {
            int grown = size * 2;
            capteurIds = Arrays.copyOf(capteurIds, grown);
            temperatures = Arrays.copyOf(temperatures, grown);
            timestamps = Arrays.copyOf(timestamps, grown);
        }
        capteurIds[size] = capteurId;
        temperatures[size] = temperature;
        timestamps[size] = timestamp;
        size++;
    }

    public void clear() {
        size = 0;
    }

    public int size() {
        return size;
    }

    public String capteurId(int i) {
        return capteurIds[i];
    }

    public double temperature(int i) {
        return temperatures[i];
    }

    public long timestamp(int i) {
        return timestamps[i];
    }

    public void timestamp(int i, long timestamp) {
        timestamps[i] = timestamp;
    }

    /** When the readings arrived, in epoch milliseconds. */
    public long receivedAt() {
        return receivedAt;
    }

    public void receivedAt(long epochMillis) {
        receivedAt = epochMillis;
    }
}
