package fr.mesures.common.tls;

/**
 * How a private key is written in PEM: PKCS#8 ({@code BEGIN PRIVATE KEY}, any key type), PKCS#1
 * ({@code BEGIN RSA PRIVATE KEY}, RSA only) or SEC1 ({@code BEGIN EC PRIVATE KEY}, EC only).
 */
public enum KeyFormat {
    PKCS8, PKCS1, SEC1
}
