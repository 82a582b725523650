package fr.mesures.capteur.source;

import java.util.SplittableRandom;

/**
 * A believable outdoor temperature: a daily cycle (coolest before dawn, warmest mid-afternoon, UTC), a slow random
 * walk that pulls back towards zero so the weather wanders without drifting away, and a little measurement
 * noise, rounded to the hundredth of a degree like a real probe.
 *
 * <p>Everything random comes from one seeded generator, so the same seed and the same measurement times give the
 * same temperatures.
 */
public final class SimulatedTemperatures implements TemperatureSource {

    private static final double DAY_MILLIS = 86_400_000.0;
    /** Hour of the day (UTC) when the cycle peaks. */
    private static final double WARMEST_HOUR = 15.0;
    private static final double DAILY_AMPLITUDE = 4.0;
    /** How much of the walk is forgotten each step: small, so the weather changes over minutes, not samples. */
    private static final double WALK_PULL = 0.002;
    private static final double WALK_STEP = 0.05;
    private static final double NOISE = 0.05;

    private final SplittableRandom random;
    private final double mean;
    private double walk;
    private boolean closed;

    /**
     * @param seed makes the sequence reproducible; sensors in one process use different seeds
     */
    public SimulatedTemperatures(long seed) {
        this.random = new SplittableRandom(seed);
        // Each sensor sits somewhere a little different: between 12 and 18 degrees on average.
        this.mean = 15.0 + (random.nextDouble() * 6.0 - 3.0);
    }

    @Override
    public Sample poll(long nowMillis) {
        if (closed) {
            return null;
        }
        walk += -WALK_PULL * walk + WALK_STEP * gaussian();
        double hours = (nowMillis % (long) DAY_MILLIS) / 3_600_000.0;
        double daily = DAILY_AMPLITUDE * Math.cos(2 * Math.PI * (hours - WARMEST_HOUR) / 24.0);
        double celsius = mean + daily + walk + NOISE * gaussian();
        return Sample.of(Math.round(celsius * 100.0) / 100.0);
    }

    @Override
    public boolean ended() {
        return closed;
    }

    @Override
    public void close() {
        closed = true;
    }

    /** A standard normal draw (Box-Muller); SplittableRandom has no nextGaussian on Java 17. */
    private double gaussian() {
        double u = 1.0 - random.nextDouble();
        double v = random.nextDouble();
        return Math.sqrt(-2.0 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }
}
