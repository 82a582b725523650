package fr.mesures.capteur.source;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Temperatures typed by a person (or piped in), one per line: the exercise's "saisie". {@code 23.5} and the
 * French {@code 23,5} are both read; blank lines are skipped; any other line, or a temperature the protocol
 * refuses whatever the server ({@link Temperatures}), is reported and skipped.
 *
 * <p>Reading standard input blocks, and the sensor's thread must never block, so this source reads on its own
 * thread ({@code capteur-stdin}) and hands each value over through a small bounded queue: when the sensor cannot
 * keep up (its buffer of unacknowledged readings is full) the queue fills, the reader stops reading, and the
 * writer of the pipe is slowed down instead of readings being lost. The reader thread is a daemon because a read
 * on standard input cannot be interrupted; the process does not wait for it.
 */
public final class TypedTemperatures implements TemperatureSource {

    private static final Logger log = LoggerFactory.getLogger(TypedTemperatures.class);
    private static final int QUEUE = 256;
    private static final long READER_STACK_BYTES = 256 * 1024;

    private final InputStream input;
    // The hand-off between the reader thread (producer) and the sensor's thread (consumer).
    private final BlockingQueue<Sample> queue = new ArrayBlockingQueue<>(QUEUE);
    // Written by the reader thread after its last put, read by the sensor's thread.
    private volatile boolean endOfInput;
    private volatile boolean closed;
    private Thread reader;

    public TypedTemperatures(InputStream input) {
        this.input = input;
    }

    @Override
    public void start(Runnable available) {
        reader = new Thread(null, () -> readLines(available), "capteur-stdin", READER_STACK_BYTES);
        reader.setDaemon(true);
        reader.start();
    }

    private void readLines(Runnable available) {
        var lines = new BufferedReader(new InputStreamReader(input, StandardCharsets.UTF_8));
        long lineNumber = 0;
        try {
            String line;
            while (!closed && (line = lines.readLine()) != null) {
                lineNumber++;
                if (line.isBlank()) {
                    continue;
                }
                double celsius;
                try {
                    celsius = Temperatures.parse(line, true);
                } catch (IllegalArgumentException e) {
                    log.warn("standard input line {}: {}, ignored", lineNumber, e.getMessage());
                    continue;
                }
                queue.put(Sample.of(celsius));
                available.run();
            }
        } catch (IOException e) {
            log.error("cannot read standard input: {}", e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            endOfInput = true;
            available.run();
        }
    }

    @Override
    public Sample poll(long nowMillis) {
        return closed ? null : queue.poll();
    }

    @Override
    public boolean ended() {
        return closed || (endOfInput && queue.isEmpty());
    }

    @Override
    public boolean selfPaced() {
        return true;
    }

    @Override
    public void close() {
        closed = true;
        if (reader != null) {
            reader.interrupt(); // frees it if it waits for room in the queue; a blocked read stays blocked
        }
    }
}
