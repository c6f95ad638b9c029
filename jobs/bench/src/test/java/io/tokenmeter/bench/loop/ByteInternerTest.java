package io.tokenmeter.bench.loop;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ByteInternerTest {

    @Test
    void givesDenseIdsInOrderOfFirstSightAndTheSameIdAgain() {
        ByteInterner interner = new ByteInterner(4); // grows many times
        Map<String, Integer> reference = new HashMap<>();
        Random random = new Random(1);
        for (int i = 0; i < 200_000; i++) {
            // Lengths around the 8- and 16-byte words, including empty strings and shared prefixes.
            String text = "acct-" + "0".repeat(random.nextInt(30)) + random.nextInt(20_000);
            if (random.nextInt(50) == 0) {
                text = EventHasherTest.randomText(random, random.nextInt(20));
            }
            byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
            byte[] buffer = new byte[utf8.length + 9];
            System.arraycopy(utf8, 0, buffer, 4, utf8.length);
            int expected = reference.computeIfAbsent(text, t -> reference.size());
            int id =
                    random.nextBoolean()
                            ? interner.intern(buffer, 4, utf8.length)
                            : interner.intern(
                                    buffer,
                                    4,
                                    utf8.length,
                                    interner.prepare(buffer, 4, utf8.length),
                                    interner.lastWord0(),
                                    interner.lastWord1());
            assertThat(id).as(text).isEqualTo(expected);
        }
        assertThat(interner.size()).isEqualTo(reference.size());
        reference.forEach((text, id) -> assertThat(interner.string(id)).isEqualTo(text));
    }

    @Test
    void tellsApartStringsThatShareTheirFirstSixteenBytes() {
        ByteInterner interner = new ByteInterner(16);
        byte[] a = "0123456789abcdef-tail-a".getBytes(StandardCharsets.US_ASCII);
        byte[] b = "0123456789abcdef-tail-b".getBytes(StandardCharsets.US_ASCII);
        byte[] empty = new byte[0];
        assertThat(interner.intern(a, 0, a.length)).isZero();
        assertThat(interner.intern(b, 0, b.length)).isEqualTo(1);
        assertThat(interner.intern(empty, 0, 0)).isEqualTo(2);
        assertThat(interner.intern(a, 0, 16)).isEqualTo(3);
        assertThat(interner.intern(b, 0, b.length)).isEqualTo(1);
        assertThat(interner.intern(a, 0, a.length)).isZero();
    }
}
