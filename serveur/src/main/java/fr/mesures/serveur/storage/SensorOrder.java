package fr.mesures.serveur.storage;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Puts the readings of a group of blocks in sensor order, keeping arrival order within each sensor: a counting
 * sort on the sensor's rank, linear in the number of readings. Arrival order within a sensor matters: of two
 * readings with the same key in one group, the first sent is the one stored.
 *
 * <p>Reused from one write to the next by the writer thread (not thread-safe).
 */
final class SensorOrder {

    private final Map<String, Integer> rank = new HashMap<>();
    private int[] blockOf = new int[0];
    private int[] rowOf = new int[0];
    private int[] sensorOf = new int[0];
    private int size;

    void sort(List<ReadingBlock> blocks) {
        rank.clear();
        size = 0;
        for (ReadingBlock block : blocks) {
            size += block.size();
        }
        if (sensorOf.length < size) {
            sensorOf = new int[size];
            blockOf = new int[size];
            rowOf = new int[size];
        }
        // Number the sensors in first-seen order, then rank them by identifier (the table's key order).
        int at = 0;
        for (ReadingBlock block : blocks) {
            for (int row = 0; row < block.size(); row++) {
                Integer seen = rank.putIfAbsent(block.capteurId(row), rank.size());
                sensorOf[at++] = seen == null ? rank.size() - 1 : seen;
            }
        }
        String[] ids = rank.keySet().toArray(new String[0]);
        Arrays.sort(ids);
        int[] byFirstSeen = new int[ids.length];
        for (int r = 0; r < ids.length; r++) {
            byFirstSeen[rank.get(ids[r])] = r;
        }
        int[] start = new int[ids.length + 1];
        for (int i = 0; i < size; i++) {
            start[byFirstSeen[sensorOf[i]] + 1]++;
        }
        for (int r = 0; r < ids.length; r++) {
            start[r + 1] += start[r];
        }
        at = 0;
        for (int b = 0; b < blocks.size(); b++) {
            ReadingBlock block = blocks.get(b);
            for (int row = 0; row < block.size(); row++) {
                int slot = start[byFirstSeen[sensorOf[at++]]]++;
                blockOf[slot] = b;
                rowOf[slot] = row;
            }
        }
    }

    int size() {
        return size;
    }

    /** The block of the i-th reading in sensor order. */
    int block(int i) {
        return blockOf[i];
    }

    /** Its row within that block. */
    int row(int i) {
        return rowOf[i];
    }
}
