package io.tokenmeter.schema;

import java.io.Serializable;
import java.time.Duration;

/**
 * How to reach a Confluent-compatible schema registry.
 *
 * @param url the base URL of the Confluent API, e.g. {@code http://registry:8081} (Confluent) or
 *     {@code http://apicurio:8080/apis/ccompat/v7} (Apicurio)
 * @param cacheSize writer schemas (and their readers) kept per reader, by id
 * @param requestTimeout how long one HTTP request may take
 * @param giveUpAfter how long to retry, with backoff, while the registry cannot answer, before
 *     failing
 */
public record SchemaRegistrySettings(
        String url, int cacheSize, Duration requestTimeout, Duration giveUpAfter)
        implements Serializable {

    public SchemaRegistrySettings {
        if (url.endsWith("/")) {
            url = url.substring(0, url.length() - 1);
        }
    }
}
