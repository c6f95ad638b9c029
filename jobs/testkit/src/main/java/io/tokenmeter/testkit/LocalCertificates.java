package io.tokenmeter.testkit;

import java.io.IOException;
import java.io.OutputStream;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A throwaway certificate authority for a local secured broker: made at start-up, never reused,
 * good for a few days. It signs the broker's certificate (for 127.0.0.1 and localhost, so clients
 * verify the host name) and client certificates whose common name is the Kafka principal (mTLS).
 * Keys are EC P-256; stores are PKCS12.
 */
public final class LocalCertificates {

    private static final Duration VALIDITY = Duration.ofDays(7);
    private static final String SIGNATURE = "SHA256withECDSA";

    private final X500Name caName;
    private final KeyPair caKeys;
    private final X509Certificate caCertificate;
    private final SecureRandom random = new SecureRandom();

    private LocalCertificates(String caCommonName) throws GeneralSecurityException {
        this.caName = new X500Name("CN=" + caCommonName + ",O=Tokenmeter local");
        this.caKeys = newKeyPair();
        X509v3CertificateBuilder builder =
                new JcaX509v3CertificateBuilder(
                        caName, serial(), notBefore(), notAfter(), caName, caKeys.getPublic());
        try {
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
            builder.addExtension(
                    Extension.keyUsage,
                    true,
                    new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
        } catch (IOException e) {
            throw new GeneralSecurityException(e);
        }
        this.caCertificate = sign(builder);
    }

    /** A new authority; {@code commonName} tells it apart from others in error messages. */
    public static LocalCertificates newAuthority(String commonName) {
        try {
            return new LocalCertificates(commonName);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot create a local certificate authority", e);
        }
    }

    /** Writes a truststore holding only this authority's certificate. */
    public void writeTruststore(Path file, char[] password) throws IOException {
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setCertificateEntry("tokenmeter-local-ca", caCertificate);
            write(store, file, password);
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot write truststore " + file, e);
        }
    }

    /**
     * Writes a keystore with a new key and a certificate for {@code commonName}, signed by this
     * authority, usable as a server certificate for 127.0.0.1/localhost and as a client
     * certificate.
     */
    public void writeKeystore(Path file, String commonName, char[] password) throws IOException {
        try {
            KeyPair keys = newKeyPair();
            X509v3CertificateBuilder builder =
                    new JcaX509v3CertificateBuilder(
                            caName,
                            serial(),
                            notBefore(),
                            notAfter(),
                            new X500Name("CN=" + commonName),
                            keys.getPublic());
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
            builder.addExtension(
                    Extension.extendedKeyUsage,
                    false,
                    new ExtendedKeyUsage(
                            new KeyPurposeId[] {
                                KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth
                            }));
            builder.addExtension(
                    Extension.subjectAlternativeName,
                    false,
                    new GeneralNames(
                            new GeneralName[] {
                                new GeneralName(GeneralName.iPAddress, "127.0.0.1"),
                                new GeneralName(GeneralName.dNSName, "localhost")
                            }));
            X509Certificate certificate = sign(builder);
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setKeyEntry(
                    commonName,
                    keys.getPrivate(),
                    password,
                    new Certificate[] {certificate, caCertificate});
            write(store, file, password);
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot write keystore " + file, e);
        }
    }

    private X509Certificate sign(X509v3CertificateBuilder builder) throws GeneralSecurityException {
        try {
            ContentSigner signer =
                    new JcaContentSignerBuilder(SIGNATURE).build(caKeys.getPrivate());
            return new JcaX509CertificateConverter().getCertificate(builder.build(signer));
        } catch (OperatorCreationException e) {
            throw new GeneralSecurityException(e);
        }
    }

    private static void write(KeyStore store, Path file, char[] password)
            throws IOException, GeneralSecurityException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        try (OutputStream out = Files.newOutputStream(file)) {
            store.store(out, password);
        }
    }

    private static KeyPair newKeyPair() throws GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        return generator.generateKeyPair();
    }

    private BigInteger serial() {
        return new BigInteger(64, random).abs().add(BigInteger.ONE);
    }

    private static Date notBefore() {
        return Date.from(Instant.now().minus(Duration.ofHours(1)));
    }

    private static Date notAfter() {
        return Date.from(Instant.now().plus(VALIDITY));
    }
}
