package fr.mesures.bench.charge;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Counts of what went wrong, by kind, with the first few messages as examples. One thread, then merged. */
public final class Errors {

    static final int SAMPLES = 5;

    private final Map<String, Long> counts = new TreeMap<>();
    private final List<String> samples = new ArrayList<>();

    public void count(String kind, String message) {
        counts.merge(kind, 1L, Long::sum);
        if (samples.size() < SAMPLES) {
            samples.add(kind + ": " + message);
        }
    }

    public void add(Errors other) {
        other.counts.forEach((k, v) -> counts.merge(k, v, Long::sum));
        for (String s : other.samples) {
            if (samples.size() < SAMPLES) {
                samples.add(s);
            }
        }
    }

    public long total() {
        return counts.values().stream().mapToLong(Long::longValue).sum();
    }

    public Map<String, Long> counts() {
        return counts;
    }

    public List<String> samples() {
        return samples;
    }
}
