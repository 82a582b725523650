package fr.mesures.common.cli;

import java.util.Locale;
import java.util.Map;
import picocli.CommandLine;

/**
 * Gives each option of a command line a default from the environment, for containers: with prefix
 * {@code SERVEUR}, {@code --max-batch} from {@code SERVEUR_MAX_BATCH}; with {@code CAPTEUR}, {@code --tls-ca} from
 * {@code CAPTEUR_TLS_CA}. A variable that is unset or blank leaves the option's own default, so that
 * {@code docker run -e SERVEUR_PORT=} or a compose file passing an unset shell variable does not become a bad value.
 * A flag on the command line wins over both. Flags take {@code true} or {@code false}; {@code --help} and
 * {@code --version} take nothing from the environment (a stray {@code CAPTEUR_HELP} must not replace a run by a
 * help page).
 */
public final class EnvironmentDefaults implements CommandLine.IDefaultValueProvider {

    private final String prefix;
    private final Map<String, String> environment;

    /**
     * @param prefix      the program's name in capitals, without the underscore: {@code SERVEUR}
     * @param environment where the variables are read ({@code System.getenv()}, or a map in tests)
     */
    public EnvironmentDefaults(String prefix, Map<String, String> environment) {
        this.prefix = prefix;
        this.environment = environment;
    }

    @Override
    public String defaultValue(CommandLine.Model.ArgSpec arg) {
        if (!(arg instanceof CommandLine.Model.OptionSpec option) || option.usageHelp() || option.versionHelp()) {
            return null;
        }
        String value = environment.get(variable(option.longestName()));
        return value == null || value.isBlank() ? null : value.strip();
    }

    /** The variable of {@code option}: {@code --max-batch} is {@code PREFIX_MAX_BATCH}. */
    public String variable(String option) {
        return prefix + "_" + option.replaceFirst("^-+", "").replace('-', '_').toUpperCase(Locale.ROOT);
    }
}
