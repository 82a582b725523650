package fr.mesures.capteur.network;

import fr.mesures.protocole.Reading;
import java.util.ArrayDeque;
import java.util.Iterator;

/**
 * Every reading a sensor made that the server has not acknowledged yet, in the order they were made: those
 * waiting to be written, and those written on the current connection with the value number the server counts
 * them by. An acknowledgement {@code {"ack": N}} removes the written ones up to N; a rejection removes the one
 * it names; a lost connection puts every written one back in front of the waiting ones, to be written again on
 * the next connection, where numbering starts over.
 *
 * <p>Bounded: when a new reading arrives and the buffer is full, the oldest one is dropped and counted, because a
 * recent temperature is worth more than one from long ago. Not thread-safe: owned by one sensor.
 */
public final class UnackedReadings {

    private record Written(Reading reading, long index) {
    }

    private final int capacity;
    private final ArrayDeque<Reading> waiting = new ArrayDeque<>();
    private final ArrayDeque<Written> written = new ArrayDeque<>();
    private long dropped;

    public UnackedReadings(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("the buffer must hold at least one reading");
        }
        this.capacity = capacity;
    }

    /**
     * Adds a new reading to be sent.
     *
     * @return true when the buffer was full and the oldest reading was dropped to make room
     */
    public boolean add(Reading reading) {
        boolean dropping = isFull();
        if (dropping) {
            if (!written.isEmpty()) {
                written.removeFirst();
            } else {
                waiting.removeFirst();
            }
            dropped++;
        }
        waiting.addLast(reading);
        return dropping;
    }

    /** The next reading to write, or {@code null} when all are written. */
    public Reading nextToWrite() {
        return waiting.peekFirst();
    }

    /** The reading {@link #nextToWrite()} returned is written as value {@code index} of the connection. */
    public void written(long index) {
        Reading reading = waiting.removeFirst();
        written.addLast(new Written(reading, index));
    }

    /**
     * The server handled values 1..{@code upTo}: forgets the written readings up to it.
     *
     * @return how many readings this acknowledged
     */
    public int acknowledge(long upTo) {
        int count = 0;
        while (!written.isEmpty() && written.peekFirst().index() <= upTo) {
            written.removeFirst();
            count++;
        }
        return count;
    }

    /**
     * The server rejected value {@code index}: forgets that reading (sending it again would not help).
     *
     * @return the rejected reading, or {@code null} when no written reading has that number
     */
    public Reading reject(long index) {
        for (Iterator<Written> it = written.iterator(); it.hasNext(); ) {
            Written w = it.next();
            if (w.index() == index) {
                it.remove();
                return w.reading();
            }
            if (w.index() > index) {
                break;
            }
        }
        return null;
    }

    /**
     * The connection is gone: every written reading is to be written again, before the waiting ones.
     *
     * @return how many readings were put back
     */
    public int rewind() {
        int count = written.size();
        for (Iterator<Written> it = written.descendingIterator(); it.hasNext(); ) {
            waiting.addFirst(it.next().reading());
        }
        written.clear();
        return count;
    }

    public int size() {
        return waiting.size() + written.size();
    }

    public int writtenCount() {
        return written.size();
    }

    public boolean isEmpty() {
        return waiting.isEmpty() && written.isEmpty();
    }

    public boolean isFull() {
        return size() >= capacity;
    }

    /** How many readings were dropped because the buffer was full. */
    public long dropped() {
        return dropped;
    }
}
