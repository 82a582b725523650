package fr.mesures.serveur.cli;

import java.util.Locale;
import java.util.Map;
import picocli.CommandLine;

/**
 * Gives each option of the server's command line a default from the environment: {@code --max-batch} from
 * {@code SERVEUR_MAX_BATCH}, and so on, for containers. A variable that is unset or blank leaves the option's own
 * default, so that {@code docker run -e SERVEUR_PORT=} or a compose file passing an unset shell variable does not
 * become a bad value. A flag on the command line wins over both.
 */
final class EnvironmentDefaults implements CommandLine.IDefaultValueProvider {

    private final Map<String, String> environment;

    EnvironmentDefaults(Map<String, String> environment) {
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

    static String variable(String option) {
        return "SERVEUR_" + option.replaceFirst("^-+", "").replace('-', '_').toUpperCase(Locale.ROOT);
    }
}
