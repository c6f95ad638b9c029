package io.tokenmeter.logic.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.apache.flink.util.InstantiationUtil;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SecretSourceTest {

    private static final String SECRET = "s3cret-0123456789abcdef0123456789abcdef";

    @TempDir Path dir;

    @Test
    void readsTheFileBeforeTheVariableWithoutSurroundingWhitespace() throws Exception {
        Path file = Files.writeString(dir.resolve("key"), "  " + SECRET + "\n");

        assertThat(source(file.toString(), Map.of("KEY", "from-the-environment")).read())
                .isEqualTo(SECRET);
        assertThat(source("", Map.of("KEY", " " + SECRET + " ")).read()).isEqualTo(SECRET);
        assertThat(source("", Map.of()).read()).isNull();
    }

    @Test
    void requireNamesTheSettingAndTheVariableButNeverTheSecret() throws Exception {
        assertThatThrownBy(() -> source("", Map.of()).require(32, "dedup key"))
                .hasMessageContaining("No dedup key")
                .hasMessageContaining("dedup.key-file")
                .hasMessageContaining("KEY");
        assertThatThrownBy(() -> source("", Map.of("KEY", "short-secret")).require(32, "dedup key"))
                .hasMessageContaining("12 characters")
                .hasMessageNotContaining("short-secret");
        assertThatThrownBy(() -> source(dir.resolve("missing").toString(), Map.of()).read())
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("dedup.key-file")
                .hasMessageContaining("missing");
    }

    /** It travels inside functions: serialized, it holds where the secret is, never the secret. */
    @Test
    void serializesAndPrintsWhereTheSecretIsNeverTheSecret() throws Exception {
        Path file = Files.writeString(dir.resolve("key"), SECRET);
        SecretSource fromFile = new SecretSource(file.toString(), "KEY", "dedup.key-file");

        SecretSource copy = InstantiationUtil.clone(fromFile);

        assertThat(copy.read()).isEqualTo(SECRET);
        assertThat(
                        new String(
                                InstantiationUtil.serializeObject(fromFile),
                                StandardCharsets.ISO_8859_1))
                .contains(file.toString())
                .doesNotContain(SECRET);
        assertThat(fromFile.toString()).contains(file.toString()).doesNotContain(SECRET);
        assertThat(source("", Map.of("KEY", SECRET)).toString())
                .isEqualTo("environment variable KEY");
        assertThat(InstantiationUtil.clone(new SecretSource("", "KEY", "dedup.key-file")).read())
                .isEqualTo(System.getenv("KEY"));
    }

    @Test
    void writesRandomKeysReadableByTheOwnerOnly() throws Exception {
        Path first = SecretSource.writeRandom(dir.resolve("a/dedup.key"));
        Path second = SecretSource.writeRandom(dir.resolve("b/dedup.key"));

        String key =
                new SecretSource(first.toString(), "", "dedup.key-file").require(32, "dedup key");
        assertThat(key).matches("[0-9a-f]{64}");
        assertThat(Files.readString(second).strip()).isNotEqualTo(key);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(first)))
                .isEqualTo("rw-------");
    }

    private static SecretSource source(String file, Map<String, String> environment) {
        return new SecretSource(
                file,
                "KEY",
                "dedup.key-file",
                (UnaryOperator<String> & Serializable) environment::get);
    }
}
