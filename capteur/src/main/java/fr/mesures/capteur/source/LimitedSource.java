package fr.mesures.capteur.source;

/**
 * Ends another source after a given number of samples: what {@code --count N} means.
 */
public final class LimitedSource implements TemperatureSource {

    private final TemperatureSource source;
    private long remaining;

    public LimitedSource(TemperatureSource source, long count) {
        if (count < 0) {
            throw new IllegalArgumentException("count must not be negative");
        }
        this.source = source;
        this.remaining = count;
    }

    @Override
    public Sample poll(long nowMillis) {
        if (remaining == 0) {
            return null;
        }
        Sample sample = source.poll(nowMillis);
        if (sample != null) {
            remaining--;
            if (remaining == 0) {
                source.close();
            }
        }
        return sample;
    }

    @Override
    public boolean ended() {
        return remaining == 0 || source.ended();
    }

    @Override
    public boolean selfPaced() {
        return source.selfPaced();
    }

    @Override
    public void start(Runnable available) {
        source.start(available);
    }

    @Override
    public void close() {
        source.close();
    }
}
