package fr.mesures.systemtests.support;

/**
 * One scrape of the server's {@code /metrics} (Prometheus text format), read the way Prometheus would: a series
 * is a name, optional labels, and a value.
 */
public record Metrics(String text) {

    /** The sum of every series called {@code name}, whatever its labels; 0 when there is none. */
    public double sum(String name) {
        return sum(name, "");
    }

    /** The sum of the series called {@code name} whose labels contain {@code labelFragment} (e.g. {@code reason="garbage"}). */
    public double sum(String name, String labelFragment) {
        double total = 0;
        for (String line : text.split("\n")) {
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int brace = line.indexOf('{');
            int space = line.lastIndexOf(' ');
            int end = brace >= 0 && brace < space ? brace : line.indexOf(' ');
            if (end <= 0 || !line.substring(0, end).equals(name)) {
                continue;
            }
            String labels = brace >= 0 && brace < space ? line.substring(brace, line.lastIndexOf('}') + 1) : "";
            if (labels.contains(labelFragment)) {
                total += Double.parseDouble(line.substring(space + 1));
            }
        }
        return total;
    }

    public long count(String name) {
        return (long) sum(name);
    }
}
