package fr.mesures.deploy;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The class's tests need a Docker engine and the docker command. Where there is none they are skipped, with the
 * reason on standard error; with CI=true they fail instead, so that CI can never pass them by skipping them.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@ExtendWith(DockerEngine.class)
@interface RequiresDocker {
}
