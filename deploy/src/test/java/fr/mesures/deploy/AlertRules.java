package fr.mesures.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The metric names that the rules of deploy/prometheus/alerts.yml read, so that a test can check each has a series
 * in a running Prometheus: a metric renamed in the server would otherwise leave its alert silently dead (PromQL
 * gives no error for a name without series, only an empty result, and an empty result never fires).
 *
 * <p>Read line by line (the module has no YAML parser): each rule's {@code expr:}, inline or as a block scalar
 * ({@code >}, {@code |}), then its selectors' names, leaving out functions, aggregations, keywords, label
 * matchers, label lists, ranges, strings and numbers.
 */
final class AlertRules {

    private static final Pattern RULE = Pattern.compile("^\\s*- (alert|record):\\s*(\\S+)\\s*$");
    private static final Pattern EXPR = Pattern.compile("^(\\s*)expr:\\s*(.*)$");
    private static final Pattern STRING = Pattern.compile("\"(\\\\.|[^\"\\\\])*\"|'(\\\\.|[^'\\\\])*'");
    private static final Pattern LABEL_LIST =
            Pattern.compile("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)");
    /** A name not inside a number (1e3) or a duration (5m), and not called like a function. */
    private static final Pattern NAME = Pattern.compile("(?<![0-9.A-Za-z_:])[A-Za-z_:][A-Za-z0-9_:]*+(?!\\s*\\()");
    private static final Set<String> KEYWORDS = Set.of("and", "or", "unless", "bool", "offset", "by", "without",
            "on", "ignoring", "group_left", "group_right", "inf", "nan", "Inf", "NaN");

    private AlertRules() {
    }

    /**
     * Alert name to the metric names its expression reads (recording rules' outputs included), in file order.
     * Recording rules themselves are left out: they are read through the alerts that use them.
     */
    static Map<String, Set<String>> metricNamesByAlert(Path rulesFile) {
        Map<String, Set<String>> byRule = new LinkedHashMap<>();
        List<String> lines = lines(rulesFile);
        String rule = null;
        for (int i = 0; i < lines.size(); i++) {
            Matcher name = RULE.matcher(lines.get(i));
            if (name.matches()) {
                rule = name.group(1).equals("alert") ? name.group(2) : null;
                continue;
            }
            Matcher expr = EXPR.matcher(lines.get(i));
            if (rule == null || !expr.matches()) {
                continue;
            }
            StringBuilder text = new StringBuilder();
            String inline = expr.group(2).strip();
            if (inline.matches("[>|][-+]?")) {
                int indent = expr.group(1).length();
                while (i + 1 < lines.size() && (lines.get(i + 1).isBlank()
                        || lines.get(i + 1).length() - lines.get(i + 1).stripLeading().length() > indent)) {
                    text.append(lines.get(++i)).append('\n');
                }
            } else {
                text.append(inline);
            }
            byRule.put(rule, names(text.toString()));
        }
        return byRule;
    }

    static Set<String> names(String promql) {
        String bare = STRING.matcher(promql).replaceAll("\"\"");
        bare = bare.replaceAll("\\{[^}]*\\}", " ").replaceAll("\\[[^\\]]*\\]", " ");
        bare = LABEL_LIST.matcher(bare).replaceAll(" ");
        Set<String> names = new TreeSet<>();
        Matcher m = NAME.matcher(bare);
        while (m.find()) {
            if (!KEYWORDS.contains(m.group())) {
                names.add(m.group());
            }
        }
        return names;
    }

    private static List<String> lines(Path file) {
        try {
            return Files.readAllLines(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
