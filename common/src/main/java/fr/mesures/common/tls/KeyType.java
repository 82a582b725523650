package fr.mesures.common.tls;

import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;

/**
 * The key pairs {@link Certificates} can make: EC P-256, small and fast, the default; RSA 2048 for peers that
 * want RSA, and to produce PKCS#1 files.
 */
public enum KeyType {
    EC_P256, RSA_2048;

    KeyPair generate() {
        try {
            KeyPairGenerator generator;
            if (this == EC_P256) {
                generator = KeyPairGenerator.getInstance("EC");
                generator.initialize(new ECGenParameterSpec("secp256r1"));
            } else {
                generator = KeyPairGenerator.getInstance("RSA");
                generator.initialize(2048);
            }
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JVM cannot make " + this + " keys", e);
        }
    }
}
