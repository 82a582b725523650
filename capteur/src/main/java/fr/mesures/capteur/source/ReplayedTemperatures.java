package fr.mesures.capteur.source;

import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvParser;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;
import fr.mesures.protocole.Reading;
import fr.mesures.protocole.ReadingDecoder;
import fr.mesures.protocole.RejectReason;
import fr.mesures.protocole.Timestamps;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Temperatures replayed from a file, for tests, demonstrations and back-filling. Two formats, told apart by the
 * first character that is not blank:
 *
 * <ul>
 *   <li>NDJSON ({@code {} or {@code [}): one protocol value per line, a reading or a batch, decoded by the
 *       protocol's own {@link ReadingDecoder} so a file the server would accept replays as is.</li>
 *   <li>CSV: either a single column of temperatures without a header, or a header naming the columns, of which
 *       {@code temperature} is required and {@code timestamp} (epoch milliseconds or ISO-8601) is optional.
 *       Columns are separated by {@code ,} or, when the first line holds a {@code ;}, by {@code ;} with the
 *       French decimal comma allowed.</li>
 * </ul>
 *
 * <p>The sensor replaying the file sends under its own identifier: a {@code capteur_id} in the file is ignored.
 * A line that cannot be read, or whose temperature the protocol refuses whatever the server
 * ({@link Temperatures}), is reported with its number and skipped. The file is read lazily, a line at a time,
 * so a file of any size replays in constant memory.
 */
public final class ReplayedTemperatures implements TemperatureSource {

    private static final Logger log = LoggerFactory.getLogger(ReplayedTemperatures.class);

    private final Path file;
    private final Rows rows;
    private final ArrayDeque<Sample> ready = new ArrayDeque<>();
    private boolean ended;

    private ReplayedTemperatures(Path file, Rows rows) {
        this.file = file;
        this.rows = rows;
    }

    /**
     * Opens a replay file and checks its first line.
     *
     * @throws IllegalArgumentException with a message for a person when the file cannot be read or its format is
     *                                  not one of the two above
     */
    public static ReplayedTemperatures open(Path file) {
        try {
            BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8);
            try {
                reader.mark(64 * 1024);
                String first = firstMeaningfulLine(reader);
                reader.reset();
                Rows rows;
                if (first == null) {
                    rows = new NdjsonRows(reader, file); // an empty file replays nothing
                } else if (first.startsWith("{") || first.startsWith("[")) {
                    rows = new NdjsonRows(reader, file);
                } else {
                    rows = CsvRows.open(reader, first, file);
                }
                return new ReplayedTemperatures(file, rows);
            } catch (RuntimeException | IOException e) {
                reader.close();
                throw e;
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read replay file " + file + ": " + e.getMessage(), e);
        }
    }

    private static String firstMeaningfulLine(BufferedReader reader) throws IOException {
        String line;
        while ((line = reader.readLine()) != null) {
            String stripped = line.strip();
            if (!stripped.isEmpty() && !stripped.startsWith("#")) {
                return stripped;
            }
        }
        return null;
    }

    @Override
    public Sample poll(long nowMillis) {
        while (ready.isEmpty() && !ended) {
            try {
                if (!rows.next(ready)) {
                    close();
                }
            } catch (IOException | UncheckedIOException e) {
                log.error("replay file {}: cannot read further, stopping the replay: {}", file, e.getMessage());
                close();
            }
        }
        return ready.poll();
    }

    @Override
    public boolean ended() {
        return ended && ready.isEmpty();
    }

    @Override
    public void close() {
        if (!ended) {
            ended = true;
            try {
                rows.close();
            } catch (IOException e) {
                log.debug("closing replay file {}: {}", file, e.toString());
            }
        }
    }

    /** Reads the file a row at a time; {@link #next} adds zero or more samples and is false at the end. */
    private interface Rows extends java.io.Closeable {
        boolean next(ArrayDeque<Sample> into) throws IOException;
    }

    private static final class NdjsonRows implements Rows, ReadingDecoder.Sink {
        private final BufferedReader reader;
        private final Path file;
        // The protocol's own decoder, with the rules every source applies: no maximum below the server's.
        private final ReadingDecoder decoder = new ReadingDecoder(Temperatures.RULES);
        private ArrayDeque<Sample> into;
        private long lineNumber;

        NdjsonRows(BufferedReader reader, Path file) {
            this.reader = reader;
            this.file = file;
        }

        @Override
        public boolean next(ArrayDeque<Sample> into) throws IOException {
            String line = reader.readLine();
            if (line == null) {
                return false;
            }
            lineNumber++;
            if (!line.isBlank()) {
                this.into = into;
                byte[] bytes = line.getBytes(StandardCharsets.UTF_8);
                decoder.decode(bytes, 0, bytes.length, this);
            }
            return true;
        }

        @Override
        public void reading(String capteurId, double temperature, long timestamp) {
            into.add(new Sample(temperature, timestamp));
        }

        @Override
        public void rejected(int element, RejectReason reason, String message) {
            log.warn("replay file {} line {}: {}, skipped", file, lineNumber, message);
        }

        @Override
        public void close() throws IOException {
            reader.close();
        }
    }

    private static final class CsvRows implements Rows {
        private final MappingIterator<String[]> rows;
        private final Path file;
        private final boolean frenchDecimals;
        private final int temperatureColumn;
        private final int timestampColumn;

        private CsvRows(MappingIterator<String[]> rows, Path file, boolean frenchDecimals,
                        int temperatureColumn, int timestampColumn) {
            this.rows = rows;
            this.file = file;
            this.frenchDecimals = frenchDecimals;
            this.temperatureColumn = temperatureColumn;
            this.timestampColumn = timestampColumn;
        }

        static CsvRows open(BufferedReader reader, String firstLine, Path file) throws IOException {
            char separator = firstLine.indexOf(';') >= 0 ? ';' : ',';
            CsvMapper mapper = new CsvMapper();
            mapper.enable(CsvParser.Feature.WRAP_AS_ARRAY);
            mapper.enable(CsvParser.Feature.SKIP_EMPTY_LINES);
            mapper.enable(CsvParser.Feature.TRIM_SPACES);
            CsvSchema schema = CsvSchema.emptySchema().withColumnSeparator(separator).withComments();
            MappingIterator<String[]> rows = mapper.readerFor(String[].class).with(schema).readValues(reader);
            String[] header = splitHeader(firstLine, separator);
            int temperature = indexOf(header, "temperature");
            int timestamp = indexOf(header, "timestamp");
            if (temperature >= 0) {
                rows.next(); // the header itself
            } else if (header.length == 1) {
                temperature = 0; // a plain list of temperatures
            } else {
                throw new IllegalArgumentException("replay file " + file + ": a CSV file with several columns needs"
                        + " a header line naming them (temperature, and optionally timestamp)");
            }
            return new CsvRows(rows, file, separator == ';', temperature, timestamp);
        }

        private static String[] splitHeader(String line, char separator) {
            String[] cells = line.split(java.util.regex.Pattern.quote(String.valueOf(separator)), -1);
            for (int i = 0; i < cells.length; i++) {
                cells[i] = cells[i].strip().replace("\"", "").toLowerCase(Locale.ROOT);
            }
            return cells;
        }

        private static int indexOf(String[] header, String name) {
            for (int i = 0; i < header.length; i++) {
                if (header[i].equals(name)) {
                    return i;
                }
            }
            return -1;
        }

        @Override
        public boolean next(ArrayDeque<Sample> into) throws IOException {
            if (!rows.hasNextValue()) {
                return false;
            }
            long line = rows.getCurrentLocation().getLineNr();
            String[] row;
            try {
                row = rows.nextValue();
            } catch (IOException | RuntimeException e) {
                log.warn("replay file {} line {}: not CSV ({}), stopping the replay", file, line, e.getMessage());
                return false;
            }
            try {
                into.add(sample(row));
            } catch (IllegalArgumentException e) {
                log.warn("replay file {} line {}: {}, skipped", file, line, e.getMessage());
            }
            return true;
        }

        private Sample sample(String[] row) {
            if (row.length <= temperatureColumn || row[temperatureColumn].isEmpty()) {
                throw new IllegalArgumentException("no temperature");
            }
            double celsius = Temperatures.parse(row[temperatureColumn], frenchDecimals);
            long timestamp = Reading.NO_TIMESTAMP;
            if (timestampColumn >= 0 && row.length > timestampColumn && !row[timestampColumn].isEmpty()) {
                timestamp = parseTimestamp(row[timestampColumn]);
            }
            return new Sample(celsius, timestamp);
        }

        private static long parseTimestamp(String text) {
            if (text.chars().allMatch(Character::isDigit)) {
                try {
                    long millis = Long.parseLong(text);
                    if (Timestamps.inRange(millis)) {
                        return millis;
                    }
                } catch (NumberFormatException e) {
                    // falls through to the range message
                }
                throw new IllegalArgumentException(Timestamps.rangeProblem(text));
            }
            return Timestamps.parseIso(text);
        }

        @Override
        public void close() throws IOException {
            rows.close();
        }
    }
}
