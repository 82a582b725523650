package fr.mesures.systemtests.support;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import fr.mesures.serveur.metrics.Health;
import org.junit.jupiter.api.Test;

/** ServeurProcess.Health reads what the server's own Health.toJson() writes, not a copy of it kept by hand. */
class ServeurProcessHealthTest {

    @Test
    void readsAStoreThatCannotBeWritten() {
        String body = new Health(true, "sqlite:/data/m.db", false, "database is \"locked\"", 0, 3, 42, null).toJson();
        assertThat(ServeurProcess.Health.parse(503, body))
                .isEqualTo(new ServeurProcess.Health(503, false, "database is \"locked\"", 42));
    }

    @Test
    void readsAHealthyServerWithoutProblem() {
        String body = new Health(true, "file:/data/m.txt", true, null, 0, 0, 0, null).toJson();
        assertThat(ServeurProcess.Health.parse(200, body)).isEqualTo(new ServeurProcess.Health(200, true, null, 0));
    }

    @Test
    void refusesAnAnswerWithoutTheStore() {
        assertThatThrownBy(() -> ServeurProcess.Health.parse(200, "{\"status\":\"up\",\"queued\":0}"))
                .isInstanceOf(IllegalStateException.class);
    }
}
