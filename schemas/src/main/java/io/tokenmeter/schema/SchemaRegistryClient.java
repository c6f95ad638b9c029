package io.tokenmeter.schema;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.avro.Schema;

/**
 * A client of the Confluent Schema Registry REST API (as Confluent, Apicurio's {@code
 * /apis/ccompat/v7}, Karapace and Redpanda serve it) over {@code java.net.http}: writer schemas by
 * id, cached; schema registration.
 *
 * <p>Three outcomes are kept apart, because a reader must treat them differently: a schema; an id
 * the registry says it does not have ({@link DecodeException.Failure#UNKNOWN_SCHEMA}, a verdict on
 * the record); and no answer ({@link SchemaRegistryUnavailableException}, retried with backoff for
 * {@link SchemaRegistrySettings#giveUpAfter} first, never a verdict on the record). A 404 (or a 400
 * or 422 about the id) counts as "unknown id" only when the body carries the API's {@code
 * error_code}, so a wrong URL is an unavailable registry, not a flood of rejections, while no id a
 * record can name makes the reader fail.
 *
 * <p>Not thread-safe: give each reader its own.
 */
public final class SchemaRegistryClient implements RegistryWriterSchemas {

    /**
     * How long an id the registry did not know is answered from memory before it is asked again.
     */
    static final Duration UNKNOWN_ID_MEMORY = Duration.ofSeconds(30);

    private static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";
    private static final Duration FIRST_BACKOFF = Duration.ofMillis(100);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(5);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final SchemaRegistrySettings settings;
    private final HttpClient http;
    private final Map<Integer, Schema> schemasById;
    private final Map<Integer, Long> unknownIdsSince;

    public SchemaRegistryClient(SchemaRegistrySettings settings) {
        this.settings = settings;
        this.http = HttpClient.newBuilder().connectTimeout(settings.requestTimeout()).build();
        this.schemasById = boundedMap(settings.cacheSize());
        this.unknownIdsSince = boundedMap(settings.cacheSize());
    }

    public String url() {
        return settings.url();
    }

    /** The Avro writer schema registered under {@code id}, from the cache or the registry. */
    @Override
    public Schema writerSchema(int id) throws DecodeException {
        Schema cached = schemasById.get(id);
        if (cached != null) {
            return cached;
        }
        Long unknownSince = unknownIdsSince.get(id);
        if (unknownSince != null
                && System.nanoTime() - unknownSince < UNKNOWN_ID_MEMORY.toNanos()) {
            throw unknownId(id);
        }
        HttpResponse<String> response =
                send(get("/schemas/ids/" + Integer.toUnsignedString(id)), true);
        if (response.statusCode() / 100 != 2) {
            unknownIdsSince.put(id, System.nanoTime());
            throw unknownId(id);
        }
        Schema schema = parseAvroSchema(id, response.body());
        schemasById.put(id, schema);
        unknownIdsSince.remove(id);
        return schema;
    }

    /**
     * Registers {@code schema} under {@code subject} (a new version, or the existing one when
     * identical) and returns its id. The registry checks it against the subject's compatibility
     * rule first.
     *
     * @throws IllegalStateException when the registry refuses the schema (incompatible, invalid),
     *     with its message
     * @throws SchemaRegistryUnavailableException when the registry cannot be reached
     */
    public int register(String subject, Schema schema) {
        String body;
        try {
            body = JSON.writeValueAsString(Map.of("schema", schema.toString()));
        } catch (IOException e) {
            throw new IllegalStateException(
                    "cannot write the registration request of " + schema.getFullName(), e);
        }
        HttpRequest request =
                request(
                                "/subjects/"
                                        + URLEncoder.encode(subject, StandardCharsets.UTF_8)
                                        + "/versions")
                        .header("Content-Type", CONTENT_TYPE)
                        .POST(HttpRequest.BodyPublishers.ofString(body))
                        .build();
        HttpResponse<String> response = send(request, false);
        if (response.statusCode() == 409 || response.statusCode() == 422) {
            throw new IllegalStateException(
                    "the schema registry at "
                            + settings.url()
                            + " refused "
                            + schema.getFullName()
                            + " under subject "
                            + subject
                            + " (HTTP "
                            + response.statusCode()
                            + "): "
                            + errorMessage(response.body()));
        }
        JsonNode id = readJson(response.body()).path("id");
        if (!id.canConvertToInt()) {
            throw new SchemaRegistryUnavailableException(
                    "the schema registry at "
                            + settings.url()
                            + " answered a registration without an id: "
                            + abbreviate(response.body()),
                    null);
        }
        return id.intValue();
    }

    /**
     * Fails unless the registry answers its API ({@code GET /subjects}), retrying for {@link
     * SchemaRegistrySettings#giveUpAfter} first; a start-up check.
     */
    public void checkReachable() {
        send(get("/subjects"), false);
    }

    private HttpRequest get(String path) {
        return request(path).GET().build();
    }

    private HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(URI.create(settings.url() + path))
                .timeout(settings.requestTimeout())
                .header("Accept", CONTENT_TYPE + ", application/json");
    }

    /**
     * Sends {@code request}, retrying with exponential backoff while the registry cannot answer (no
     * connection, time-out, 5xx, 429). Returns a 2xx response, a 409/422 (a refusal, for the caller
     * to explain) or, when {@code idLookup}, a 404, 400 or 422 in the API's error format (the
     * registry's verdict on the id).
     */
    private HttpResponse<String> send(HttpRequest request, boolean idLookup) {
        long deadline = System.nanoTime() + settings.giveUpAfter().toNanos();
        Duration backoff = FIRST_BACKOFF;
        int attempts = 0;
        while (true) {
            attempts++;
            String problem;
            Exception cause = null;
            try {
                HttpResponse<String> response =
                        http.send(request, HttpResponse.BodyHandlers.ofString());
                int status = response.statusCode();
                if (status / 100 == 2 || status == 409 || status == 422) {
                    return response;
                }
                if (idLookup
                        && (status == 404 || status == 400 || status == 422)
                        && isApiError(response.body())) {
                    return response;
                }
                problem = "HTTP " + status + " " + abbreviate(response.body());
                if (status / 100 == 4 && status != 429) {
                    // A wrong URL, missing credentials or a forbidden subject: waiting will not
                    // change it.
                    throw unavailable(request, problem, attempts, null);
                }
            } catch (IOException e) {
                problem = e.toString();
                cause = e;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw unavailable(request, "interrupted", attempts, e);
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw unavailable(request, problem, attempts, cause);
            }
            try {
                Thread.sleep(Math.min(backoff.toMillis(), Math.max(1, left / 1_000_000)));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw unavailable(request, "interrupted", attempts, e);
            }
            backoff =
                    backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0
                            ? MAX_BACKOFF
                            : backoff.multipliedBy(2);
        }
    }

    private SchemaRegistryUnavailableException unavailable(
            HttpRequest request, String problem, int attempts, Exception cause) {
        return new SchemaRegistryUnavailableException(
                "the schema registry did not answer "
                        + request.method()
                        + " "
                        + request.uri()
                        + " after "
                        + attempts
                        + " attempt(s) within "
                        + settings.giveUpAfter().toMillis()
                        + " ms: "
                        + problem,
                cause);
    }

    private DecodeException unknownId(int id) {
        return new DecodeException(
                DecodeException.Failure.UNKNOWN_SCHEMA,
                "schema id "
                        + Integer.toUnsignedString(id)
                        + " is not in the schema registry at "
                        + settings.url());
    }

    private Schema parseAvroSchema(int id, String body) throws DecodeException {
        JsonNode node = readJson(body);
        String type = node.path("schemaType").asText("AVRO");
        if (!type.equals("AVRO")) {
            throw new DecodeException(
                    DecodeException.Failure.UNKNOWN_SCHEMA,
                    "schema id "
                            + Integer.toUnsignedString(id)
                            + " is a "
                            + type
                            + " schema, not Avro");
        }
        if (node.path("references").size() > 0) {
            throw new DecodeException(
                    DecodeException.Failure.UNKNOWN_SCHEMA,
                    "schema id "
                            + Integer.toUnsignedString(id)
                            + " uses schema references, which this reader does not resolve");
        }
        try {
            return new Schema.Parser().parse(node.path("schema").asText());
        } catch (
                RuntimeException
                        e) { // SchemaParseException, or anything a malformed schema makes Avro
            // throw
            throw new DecodeException(
                    DecodeException.Failure.UNKNOWN_SCHEMA,
                    "schema id "
                            + Integer.toUnsignedString(id)
                            + " is not a valid Avro schema: "
                            + e.getMessage());
        }
    }

    private JsonNode readJson(String body) {
        try {
            return JSON.readTree(body);
        } catch (IOException e) {
            throw new SchemaRegistryUnavailableException(
                    "the schema registry at "
                            + settings.url()
                            + " answered something other than JSON: "
                            + abbreviate(body),
                    e);
        }
    }

    /**
     * Whether {@code body} is the Confluent API's error format (40403 "schema not found", 42202
     * "invalid id"...).
     */
    private static boolean isApiError(String body) {
        try {
            return JSON.readTree(body).path("error_code").canConvertToInt();
        } catch (IOException e) {
            return false;
        }
    }

    private static String errorMessage(String body) {
        try {
            JsonNode message = JSON.readTree(body).path("message");
            return message.isMissingNode() ? abbreviate(body) : message.asText();
        } catch (IOException e) {
            return abbreviate(body);
        }
    }

    private static String abbreviate(String text) {
        return text.length() <= 300 ? text : text.substring(0, 300) + "...";
    }

    private static <V> Map<Integer, V> boundedMap(int capacity) {
        return new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Integer, V> eldest) {
                return size() > capacity;
            }
        };
    }
}
