package fr.mesures.serveur.storage;

import fr.mesures.protocole.Reading;
import java.util.Arrays;

/**
 * Readings in columns, as a store writes them: one array per field, no object per reading.
 *
 * <p>Each row also says where it came from ({@link #frame}, {@link #element}: which value of the batch, which element
 * of that value), so that what the store makes of it ({@link #outcome}) can be told to the client that sent it.
 * {@link #receivedAt()} is shared by the whole block (the readings arrived in the same selector round). A timestamp
 * of {@link Reading#NO_TIMESTAMP} must be replaced before the block reaches a store.
 *
 * <p>Sized once: {@link #add} never grows the arrays past the capacity given, so the memory a block takes is known
 * when it is made (see {@code Footprint}). Mutable and owned by one thread at a time, like the batch that holds it.
 */
public final class ReadingBlock {

    /** What the store did with a row. */
    public enum Outcome {
        /** Not written yet. */
        PENDING,
        /** Stored now. */
        STORED,
        /** Already stored with the same temperature: a resend, acknowledged again. */
        DUPLICATE,
        /** Already stored with another temperature ({@link #storedTemperature}): the stored one is kept. */
        CONFLICT
    }

    private static final Outcome[] OUTCOMES = Outcome.values();

    private final String[] capteurIds;
    private final double[] temperatures;
    private final long[] timestamps;
    private final int[] frames;
    private final int[] elements;
    private final byte[] outcomes;
    // Only for conflicts, which are rare: allocated at the first one.
    private double[] storedTemperatures;
    private int size;
    private long receivedAt;

    public ReadingBlock(int capacity) {
        capteurIds = new String[capacity];
        temperatures = new double[capacity];
        timestamps = new long[capacity];
        frames = new int[capacity];
        elements = new int[capacity];
        outcomes = new byte[capacity];
    }

    /** Adds a reading that is not part of a batch: frame and element 0. */
    public void add(String capteurId, double temperature, long timestamp) {
        add(capteurId, temperature, timestamp, 0, 0);
    }

    /**
     * Adds a reading: {@code frame} is its value's position in the batch, {@code element} its position in that value
     * (0 for a single reading, from 1 in an array).
     *
     * @throws IllegalStateException when the block is full: its capacity was computed wrong
     */
    public void add(String capteurId, double temperature, long timestamp, int frame, int element) {
        if (size == capteurIds.length) {
            throw new IllegalStateException("reading block full at " + size + " readings");
        }
        capteurIds[size] = capteurId;
        temperatures[size] = temperature;
        timestamps[size] = timestamp;
        frames[size] = frame;
        elements[size] = element;
        outcomes[size] = (byte) Outcome.PENDING.ordinal();
        size++;
    }

    public void clear() {
        size = 0;
    }

    public int size() {
        return size;
    }

    public int capacity() {
        return capteurIds.length;
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

    public int frame(int i) {
        return frames[i];
    }

    public int element(int i) {
        return elements[i];
    }

    public Outcome outcome(int i) {
        return OUTCOMES[outcomes[i]];
    }

    /** Set by the store for {@link Outcome#STORED} and {@link Outcome#DUPLICATE}; use {@link #conflict} for the third. */
    public void outcome(int i, Outcome outcome) {
        if (outcome == Outcome.CONFLICT) {
            throw new IllegalArgumentException("a conflict needs the stored temperature: use conflict(i, stored)");
        }
        outcomes[i] = (byte) outcome.ordinal();
    }

    /** The store already holds this key with {@code storedTemperature}, and keeps it. */
    public void conflict(int i, double storedTemperature) {
        if (storedTemperatures == null) {
            storedTemperatures = new double[capteurIds.length];
        }
        storedTemperatures[i] = storedTemperature;
        outcomes[i] = (byte) Outcome.CONFLICT.ordinal();
    }

    /** The temperature the store kept, for a row whose outcome is {@link Outcome#CONFLICT}. */
    public double storedTemperature(int i) {
        if (outcome(i) != Outcome.CONFLICT) {
            throw new IllegalStateException("row " + i + " is not a conflict");
        }
        return storedTemperatures[i];
    }

    /** Puts every row back to {@link Outcome#PENDING}: before a write is retried. */
    public void resetOutcomes() {
        Arrays.fill(outcomes, 0, size, (byte) Outcome.PENDING.ordinal());
    }

    /** When the readings arrived, in epoch milliseconds. */
    public long receivedAt() {
        return receivedAt;
    }

    public void receivedAt(long epochMillis) {
        receivedAt = epochMillis;
    }
}
