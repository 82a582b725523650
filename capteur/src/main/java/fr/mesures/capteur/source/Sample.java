package fr.mesures.capteur.source;

import fr.mesures.protocole.Reading;

/**
 * What a {@link TemperatureSource} yields: a temperature and, when the source knows it (a replayed file), the time
 * it was measured. Without a time the sensor stamps the sample with its own clock.
 *
 * @param temperature degrees Celsius
 * @param timestamp   epoch milliseconds, or {@link Reading#NO_TIMESTAMP} to let the sensor stamp it
 */
public record Sample(double temperature, long timestamp) {

    public static Sample of(double temperature) {
        return new Sample(temperature, Reading.NO_TIMESTAMP);
    }

    public boolean hasTimestamp() {
        return timestamp != Reading.NO_TIMESTAMP;
    }
}
