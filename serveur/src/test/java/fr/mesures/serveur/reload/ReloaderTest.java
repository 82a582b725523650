package fr.mesures.serveur.reload;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import fr.mesures.serveur.ingest.FailFast;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reload facility alone, on real files in a temporary folder: a number per file, read by a loader that counts
 * its calls. Polls are made with {@link Reloader#checkNow()} except where the thread itself is under test.
 */
@Timeout(30)
class ReloaderTest {

    /** Long enough that the thread, when started, never polls on its own during a test. */
    private static final Duration NEVER = Duration.ofHours(1);

    @TempDir
    Path dir;
    Path file;
    final AtomicInteger loads = new AtomicInteger();
    LogCapture logs;
    Reloader reloader;

    @BeforeEach
    void setUp() throws IOException {
        file = Files.writeString(dir.resolve("nombre.txt"), "1");
        logs = LogCapture.of(Reloader.class);
    }

    @AfterEach
    void tearDown() {
        if (reloader != null) {
            reloader.close();
        }
        logs.close();
    }

    private Integer number(Path from) throws IOException {
        loads.incrementAndGet();
        String text = Files.readString(from).strip();
        try {
            return Integer.valueOf(text);
        } catch (NumberFormatException e) {
            throw new IOException(from + ": '" + text + "' is not a number");
        }
    }

    private Watched<Integer> watchNumber(Duration period) throws IOException {
        reloader = new Reloader(period);
        return reloader.watch("nombre", List.of(file), () -> number(file));
    }

    /** Replaces the file as certbot and PemFileWriter do: a new file renamed over the old one. */
    private static void replace(Path target, String text) throws IOException {
        Path temporary = Files.writeString(target.resolveSibling(target.getFileName() + ".tmp"), text);
        Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    @Test
    void aChangedFileIsReloadedOnceAndListenersAreTold() throws Exception {
        Watched<Integer> nombre = watchNumber(NEVER);
        List<Integer> told = Collections.synchronizedList(new ArrayList<>());
        nombre.onChange(told::add);
        assertThat(nombre.get()).isEqualTo(1);
        assertThat(nombre.version()).isEqualTo(1);

        reloader.checkNow();
        assertThat(loads).as("an unchanged file is not read again").hasValue(1);

        Files.writeString(file, "20");
        reloader.checkNow();
        reloader.checkNow();
        assertThat(nombre.get()).isEqualTo(20);
        assertThat(nombre.version()).isEqualTo(2);
        assertThat(told).containsExactly(20);
        assertThat(loads).hasValue(2);
        assertThat(logs.at(Level.INFO)).singleElement().asString().contains("nombre reloaded from", "nombre.txt");
        assertThat(logs.at(Level.WARN)).isEmpty();
    }

    @Test
    void aFileReplacedWithTheSameTimeAndSizeIsSeenByItsFileKey() throws Exception {
        Watched<Integer> nombre = watchNumber(NEVER);
        BasicFileAttributes before = Files.readAttributes(file, BasicFileAttributes.class);
        assumeThat(before.fileKey()).as("this file system gives file keys").isNotNull();

        Path temporary = Files.writeString(dir.resolve("nouveau.tmp"), "7");
        Files.setLastModifiedTime(temporary, before.lastModifiedTime());
        Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        BasicFileAttributes after = Files.readAttributes(file, BasicFileAttributes.class);
        assertThat(after.lastModifiedTime()).isEqualTo(before.lastModifiedTime());
        assertThat(after.size()).isEqualTo(before.size());

        reloader.checkNow();
        assertThat(nombre.get()).isEqualTo(7);
    }

    @Test
    void refusedFilesKeepTheOldValueAndWarnOnceWhenTheyStaySo() throws Exception {
        Watched<Integer> nombre = watchNumber(NEVER);
        replace(file, "pas un nombre");

        reloader.checkNow();
        assertThat(nombre.get()).isEqualTo(1);
        assertThat(logs.at(Level.INFO)).singleElement().asString().contains("nombre not reloaded yet",
                "'pas un nombre' is not a number");
        assertThat(logs.at(Level.WARN)).as("not before a second look at the same files").isEmpty();
        assertThat(nombre.failures()).isZero();
        assertThat(nombre.refusing()).isFalse();

        for (int i = 0; i < 3; i++) {
            reloader.checkNow();
        }
        assertThat(nombre.get()).isEqualTo(1);
        assertThat(nombre.version()).isEqualTo(1);
        assertThat(logs.at(Level.WARN)).singleElement().asString().startsWith("nombre not reloaded: ")
                .contains(file.toString(), "'pas un nombre' is not a number", "still using the one loaded at");
        assertThat(nombre.failures()).isEqualTo(1);
        assertThat(loads).as("refused files are tried again at each poll").hasValue(5);
        assertThat(nombre.refusing()).as("for as long as the files stay refused").isTrue();

        replace(file, "3");
        reloader.checkNow();
        assertThat(nombre.get()).isEqualTo(3);
        assertThat(nombre.version()).isEqualTo(2);
        assertThat(nombre.failures()).isEqualTo(1);
        assertThat(nombre.refusing()).isFalse();

        Files.delete(file);
        reloader.checkNow();
        reloader.checkNow();
        assertThat(nombre.get()).isEqualTo(3);
        assertThat(logs.at(Level.WARN)).hasSize(2).last().asString().contains(file + ": no such file");
        assertThat(nombre.failures()).isEqualTo(2);
        assertThat(nombre.refusing()).isTrue();
    }

    @Test
    void aLoaderThatThrowsARuntimeExceptionIsRefusedTheSameWay() throws Exception {
        reloader = new Reloader(NEVER);
        Watched<String> texte = reloader.watch("texte", List.of(file), () -> {
            String text = Files.readString(file);
            if (text.contains("x")) {
                throw new IllegalStateException("no x allowed");
            }
            return text;
        });
        replace(file, "xx");
        reloader.checkNow();
        reloader.checkNow();
        assertThat(texte.get()).isEqualTo("1");
        assertThat(logs.at(Level.WARN)).singleElement().asString().contains(file.toString(),
                "IllegalStateException: no x allowed");
    }

    @Test
    void twoFilesReplacedOneAfterTheOtherAreTakenWithoutAWarning() throws Exception {
        // Like a certificate and its key: the loader refuses a pair that does not match.
        Path other = Files.writeString(dir.resolve("copie.txt"), "1");
        reloader = new Reloader(NEVER);
        Watched<Integer> paire = reloader.watch("paire", List.of(file, other), () -> {
            int a = number(file);
            int b = number(other);
            if (a != b) {
                throw new IOException(other + ": " + b + " does not match " + a);
            }
            return a;
        });

        replace(file, "2");
        reloader.checkNow();
        assertThat(paire.get()).isEqualTo(1);
        replace(other, "2");
        reloader.checkNow();

        assertThat(paire.get()).isEqualTo(2);
        assertThat(logs.at(Level.WARN)).isEmpty();
        assertThat(logs.at(Level.INFO)).hasSize(2).first().asString().contains("paire not reloaded yet",
                "1 does not match 2");
        assertThat(paire.failures()).isZero();
    }

    @Test
    void theFirstLoadThrowsWhatTheLoaderThrows() {
        reloader = new Reloader(NEVER);
        Path missing = dir.resolve("absent.txt");
        assertThatThrownBy(() -> reloader.watch("absent", List.of(missing), () -> number(missing)))
                .isInstanceOf(NoSuchFileException.class);
        assertThatThrownBy(() -> reloader.watch("vide", List.of(), () -> 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("without a file");
        List<String> observed = new ArrayList<>();
        reloader.eachWatched(w -> observed.add(w.what()));
        assertThat(observed).as("nothing was watched").isEmpty();
    }

    @Test
    void everyValueWatchedBeforeOrAfterIsObserved() throws Exception {
        Watched<Integer> avant = watchNumber(NEVER);
        List<Watched<?>> observed = Collections.synchronizedList(new ArrayList<>());
        reloader.eachWatched(observed::add);
        Path second = Files.writeString(dir.resolve("deux.txt"), "2");
        Watched<Integer> apres = reloader.watch("apres", List.of(second), () -> number(second));
        assertThat(observed).containsExactly(avant, apres);
        assertThatThrownBy(() -> reloader.watch("apres", List.of(second), () -> 3))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("'apres' is watched already");
    }

    @Test
    void theThreadPollsOnItsOwnAndStopsOnClose() throws Exception {
        Watched<Integer> nombre = watchNumber(Duration.ofMillis(50));
        reloader.start(new FailFast());
        assertThat(threadNamed("serveur-reload")).isTrue();

        replace(file, "42");
        await().atMost(Duration.ofSeconds(5)).until(nombre::get, n -> n == 42);

        reloader.close();
        await().atMost(Duration.ofSeconds(5)).until(() -> !threadNamed("serveur-reload"));
        replace(file, "43");
        reloader.checkNow();
        assertThat(nombre.get()).as("still usable by hand after close").isEqualTo(43);
    }

    @Test
    void aReloadThreadThatDiesOfAnErrorIsReportedAndTheValueStays() throws Exception {
        reloader = new Reloader(Duration.ofMillis(50));
        Watched<Integer> nombre = reloader.watch("nombre", List.of(file), () -> {
            if (loads.incrementAndGet() > 1) {
                throw new OutOfMemoryError("injected");
            }
            return 1;
        });
        FailFast failFast = new FailFast();
        reloader.start(failFast);
        replace(file, "2");

        assertThat(failFast.await(5, TimeUnit.SECONDS)).as("the death is reported").isTrue();
        assertThat(failFast.failure()).contains("serveur-reload died", "OutOfMemoryError: injected");
        assertThat(nombre.get()).isEqualTo(1);
        await().atMost(Duration.ofSeconds(5)).until(() -> !threadNamed("serveur-reload"));
    }

    private static boolean threadNamed(String name) {
        return Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.getName().equals(name) && t.isAlive());
    }
}
