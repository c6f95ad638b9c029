package io.tokenmeter.logic.ingest;

import java.io.IOException;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.function.UnaryOperator;
import javax.annotation.Nullable;

/**
 * Where a secret is, never the secret: a file, or else an environment variable, read by whoever
 * needs the secret at the moment it needs it — on a cluster that is the task on the TaskManager,
 * never the client, so the secret is in no job graph, blob, checkpoint, configuration dump or log.
 * Serializable because it travels inside the functions that read it; the secret itself is never a
 * field of anything serialized.
 *
 * <p>A file's content, or the variable's value, is the secret with surrounding whitespace removed.
 */
public final class SecretSource implements Serializable {

    private static final long serialVersionUID = 1L;

    private final String file;
    private final String environmentVariable;
    private final String fileSetting;
    private final UnaryOperator<String> environment;

    /**
     * @param file the secret's file, empty for none (then the variable is read)
     * @param environmentVariable the variable holding the secret when there is no file, empty for
     *     none
     * @param fileSetting the configuration key that names the file, for messages
     */
    public SecretSource(String file, String environmentVariable, String fileSetting) {
        this(
                file,
                environmentVariable,
                fileSetting,
                (UnaryOperator<String> & Serializable) System::getenv);
    }

    /** With {@code environment} in place of {@link System#getenv(String)}, for tests. */
    public SecretSource(
            String file,
            String environmentVariable,
            String fileSetting,
            UnaryOperator<String> environment) {
        this.file = file;
        this.environmentVariable = environmentVariable;
        this.fileSetting = fileSetting;
        this.environment = environment;
    }

    /**
     * The secret, or null when neither the file nor the variable is set.
     *
     * @throws IllegalStateException when the file is named but cannot be read, naming the setting
     */
    @Nullable
    public String read() {
        if (!file.isEmpty()) {
            try {
                return Files.readString(Path.of(file), StandardCharsets.UTF_8).strip();
            } catch (IOException | RuntimeException e) {
                throw new IllegalStateException(
                        "Cannot read the secret file "
                                + file
                                + " that "
                                + fileSetting
                                + " names: "
                                + e.getClass().getSimpleName()
                                + " "
                                + e.getMessage(),
                        e);
            }
        }
        if (environmentVariable.isEmpty()) {
            return null;
        }
        String value = environment.apply(environmentVariable);
        return value == null ? null : value.strip();
    }

    /**
     * The secret, which must exist and have at least {@code minLength} characters.
     *
     * @throws IllegalStateException otherwise, naming where it was looked for and how to supply it
     */
    public String require(int minLength, String what) {
        String secret = read();
        if (secret == null) {
            throw new IllegalStateException(
                    "No "
                            + what
                            + ": set "
                            + fileSetting
                            + " to a file readable by every "
                            + "TaskManager"
                            + (environmentVariable.isEmpty()
                                    ? ""
                                    : ", or the environment variable "
                                            + environmentVariable
                                            + " of every TaskManager")
                            + " (e.g. openssl rand -hex 32)");
        }
        if (secret.length() < minLength) {
            // The length only: a short secret is still a secret.
            throw new IllegalStateException(
                    "The "
                            + what
                            + " from "
                            + this
                            + " has "
                            + secret.length()
                            + " characters; it needs at least "
                            + minLength
                            + " (e.g. openssl rand -hex 32)");
        }
        return secret;
    }

    /** Whether a file names the secret (else the environment variable does, if any). */
    public boolean fromFile() {
        return !file.isEmpty();
    }

    /** Where the secret is looked for; never the secret. */
    @Override
    public String toString() {
        return fromFile()
                ? "file " + file + " (" + fileSetting + ")"
                : environmentVariable.isEmpty()
                        ? "nowhere"
                        : "environment variable " + environmentVariable;
    }

    /**
     * Writes a new random 256-bit secret, as 64 hex digits, to {@code file}, readable by its owner
     * only where the file system knows POSIX permissions; for local runs and tests, which have no
     * operator to supply one.
     */
    public static Path writeRandom(Path file) throws IOException {
        byte[] secret = new byte[32];
        new SecureRandom().nextBytes(secret);
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.deleteIfExists(file);
        try {
            Files.createFile(
                    file,
                    PosixFilePermissions.asFileAttribute(
                            PosixFilePermissions.fromString("rw-------")));
        } catch (UnsupportedOperationException e) {
            Files.createFile(file);
        }
        Files.writeString(file, HexFormat.of().formatHex(secret) + "\n", StandardCharsets.US_ASCII);
        return file;
    }
}
