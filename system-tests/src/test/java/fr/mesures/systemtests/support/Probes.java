package fr.mesures.systemtests.support;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.time.Duration;
import org.HdrHistogram.Histogram;

/**
 * Well-behaved clients that run through an attack: {@link AckedStreams} connections each sending one reading
 * every 20 ms with acks, as a real sensor does. {@link #finish} then says whether the attack hurt them: each must
 * still be served after it, and every reading it made must be acknowledged and stored once.
 */
public final class Probes implements AutoCloseable {

    private static final int WARM_UP_ACKS = 5;

    private final AckedStreams streams;
    private final int connections;

    private Probes(AckedStreams streams, int connections) {
        this.streams = streams;
        this.connections = connections;
    }

    /**
     * Opens {@code connections} probes (sensors {@code prefix_1..n}) and returns once each has had a few readings
     * acknowledged; latency is recorded from then on.
     */
    public static Probes start(int port, String prefix, int connections) throws IOException, InterruptedException {
        AckedStreams streams = AckedStreams.Plan.of(prefix, connections).interval(Duration.ofMillis(20))
                .window(100_000).open(port);
        Probes probes = new Probes(streams, connections);
        try {
            await().atMost(Duration.ofSeconds(30)).until(() -> streams.acked() >= connections * (long) WARM_UP_ACKS);
        } catch (RuntimeException e) {
            probes.close();
            throw e;
        }
        streams.latencySinceLastCall();
        return probes;
    }

    /** Readings acknowledged so far, over every probe. */
    public long acked() {
        return streams.acked();
    }

    /**
     * Waits until the probes are served again after the attack, stops them (each half-closes and reads its last
     * replies), and checks every probe: no error line, ended normally, everything it made acknowledged and in the
     * database exactly once. Returns the latency of the readings acknowledged since {@link #start}.
     */
    public Histogram finish(Database database) {
        long after = streams.acked();
        await().atMost(Duration.ofSeconds(30)).until(() -> streams.acked() >= after + connections * (long) WARM_UP_ACKS);
        Histogram during = streams.latencySinceLastCall();
        streams.stop();
        await().atMost(Duration.ofSeconds(60)).until(streams::allEnded);
        for (AckedStreams.State s : streams.states()) {
            assertThat(s.errors()).as("error lines to probe %s", s.capteurId()).isEmpty();
            assertThat(s.end()).as("how probe %s ended", s.capteurId()).isEqualTo("finished");
            assertThat(s.acked()).as("readings of probe %s acknowledged", s.capteurId()).isEqualTo(s.produced());
            assertThat(database.count(s.capteurId())).as("rows of probe %s", s.capteurId()).isEqualTo(s.produced());
        }
        return during;
    }

    @Override
    public void close() throws InterruptedException {
        streams.close();
    }
}
