package io.tokenmeter.config;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.PropertyBindingException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.annotation.Annotation;
import java.lang.reflect.RecordComponent;
import java.nio.file.Path;
import java.time.DateTimeException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * The one way Tokenmeter reads its YAML files (the job configuration, the package catalog, the
 * topic definitions): Jackson binds a document to records named in kebab case; a key no record
 * declares fails, and every error names the path of the value at fault, such as {@code
 * packages[0].tariffs[1].effective-from}.
 *
 * <p>Records check their own values in their compact constructors by throwing {@link InvalidValue}
 * with the key relative to themselves; the binding prefixes it with where the record sits in the
 * document.
 */
public final class YamlBinding {

    /** How a binding words its errors; {@code path} is the full path of the value at fault. */
    public interface Messages {
        String invalid(String path, String problem);

        String unknown(String path, Collection<String> knownKeys);
    }

    /** Errors as {@code path: problem}, for documents such as the package catalog. */
    public static final Messages DOCUMENT =
            new Messages() {
                @Override
                public String invalid(String path, String problem) {
                    return path + ": " + problem;
                }

                @Override
                public String unknown(String path, Collection<String> knownKeys) {
                    return path + ": is not a known key; known: " + knownKeys;
                }
            };

    /**
     * A value a record refused; {@code key} is relative to the record (empty: the record itself).
     */
    public static final class InvalidValue extends IllegalArgumentException {
        private final String key;

        public InvalidValue(String key, String problem) {
            super(problem);
            this.key = key;
        }
    }

    /** Fails with {@link InvalidValue} unless {@code ok}. */
    public static void require(boolean ok, String key, String problem) {
        if (!ok) {
            throw new InvalidValue(key, problem);
        }
    }

    private final ObjectMapper mapper;
    private final Messages messages;

    /**
     * A binding with {@code values}: the (de)serializers of the value types its records use beyond
     * Jackson's own.
     */
    public YamlBinding(Messages messages, SimpleModule values) {
        this.messages = messages;
        this.mapper =
                YAMLMapper.builder()
                        .propertyNamingStrategy(PropertyNamingStrategies.KEBAB_CASE)
                        .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                        .enable(DeserializationFeature.FAIL_ON_IGNORED_PROPERTIES)
                        .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                        .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
                        .addModule(values)
                        .build();
    }

    /**
     * A module of value types read from and written as text, e.g. {@code Duration} as {@code "15
     * min"}.
     */
    public static <T> void addTextual(
            SimpleModule module,
            Class<T> type,
            Function<String, T> parse,
            Function<T, String> format) {
        module.addDeserializer(
                type,
                new JsonDeserializer<T>() {
                    @Override
                    public T deserialize(JsonParser p, DeserializationContext ctxt)
                            throws IOException {
                        String text = p.getValueAsString();
                        if (text == null) {
                            throw InvalidFormatException.from(
                                    p, "expected a text value", p.getText(), type);
                        }
                        try {
                            return parse.apply(text.trim());
                        } catch (IllegalArgumentException | DateTimeException e) {
                            throw InvalidFormatException.from(p, e.getMessage(), text, type);
                        }
                    }
                });
        module.addSerializer(
                type,
                new JsonSerializer<T>() {
                    @Override
                    public void serialize(
                            T value, JsonGenerator gen, SerializerProvider serializers)
                            throws IOException {
                        gen.writeString(format.apply(value));
                    }
                });
    }

    /** The YAML document in {@code file} as a tree; an empty file is an empty mapping. */
    public ObjectNode readTree(Path file, String what) {
        JsonNode root;
        try {
            root = mapper.readTree(file.toFile());
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(
                    what + " " + file + " is not valid YAML: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException(
                    "Cannot read " + what + " " + file + ": " + e.getMessage(), e);
        }
        if (root == null || root.isMissingNode() || root.isNull()) {
            return mapper.createObjectNode();
        }
        if (!(root instanceof ObjectNode mapping)) {
            throw new IllegalArgumentException(what + " " + file + " must hold a YAML mapping");
        }
        return mapping;
    }

    /** The YAML document {@code text} as a tree. */
    public JsonNode readTree(String text) {
        try {
            return mapper.readTree(text);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not valid YAML: " + e.getOriginalMessage(), e);
        }
    }

    /** An empty mapping. */
    public ObjectNode emptyTree() {
        return mapper.createObjectNode();
    }

    /** {@code value} as the tree it binds from. */
    public ObjectNode toTree(Object value) {
        return mapper.valueToTree(value);
    }

    /** {@code tree} bound to {@code type}; errors name the path of the value at fault. */
    public <T> T bind(JsonNode tree, Class<T> type) {
        try {
            return mapper.treeToValue(tree, type);
        } catch (
                PropertyBindingException
                        e) { // unknown, or known but not to be set (a derived value)
            TreeSet<String> known = new TreeSet<>();
            e.getKnownPropertyIds().forEach(id -> known.add(String.valueOf(id)));
            throw new IllegalArgumentException(messages.unknown(path(e), known), e);
        } catch (ValueInstantiationException e) {
            if (e.getCause() instanceof InvalidValue invalid) {
                String at = path(e);
                String key =
                        at.isEmpty()
                                ? invalid.key
                                : invalid.key.isEmpty() ? at : at + "." + invalid.key;
                throw new IllegalArgumentException(
                        messages.invalid(key, invalid.getMessage()), invalid);
            }
            if (e.getCause() instanceof IllegalArgumentException refused) {
                throw refused; // a check that names its key itself
            }
            throw new IllegalArgumentException(
                    messages.invalid(path(e), e.getOriginalMessage()), e);
        } catch (InvalidFormatException e) {
            throw new IllegalArgumentException(
                    messages.invalid(
                            path(e),
                            "has an invalid value '"
                                    + e.getValue()
                                    + "': "
                                    + e.getOriginalMessage()),
                    e);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(
                    messages.invalid(path(e), e.getOriginalMessage()), e);
        }
    }

    /**
     * Fills in every setting {@code tree} leaves out with its declared default: the {@code
     * defaultValue} of the {@link JsonProperty} on each component of {@code type}, a record, and of
     * the records it holds. Maps left out become empty mappings, so that {@link #set} can reach
     * into them.
     */
    public static void fillDefaults(ObjectNode tree, Class<?> type) {
        for (RecordComponent component : type.getRecordComponents()) {
            JsonProperty declared = annotation(type, component, JsonProperty.class);
            if (annotation(type, component, JsonIgnore.class) != null) {
                continue;
            }
            String name =
                    PropertyNamingStrategies.KebabCaseStrategy.INSTANCE.translate(
                            component.getName());
            JsonNode present = tree.get(name);
            if (component.getType().isRecord() || Map.class.isAssignableFrom(component.getType())) {
                if (present == null) {
                    present = tree.putObject(name);
                }
                if (component.getType().isRecord() && present instanceof ObjectNode nested) {
                    fillDefaults(nested, component.getType());
                }
            } else if (present == null && declared != null) {
                tree.put(name, declared.defaultValue());
            }
        }
    }

    /**
     * Sets {@code dottedKey} (such as {@code billing.time-zone}) to {@code value} in {@code tree}:
     * through the mappings the key's parts name, the rest of the key naming one entry of the last
     * (so a Kafka client setting {@code kafka.properties.security.protocol} lands in the {@code
     * kafka.properties} mapping whole).
     */
    public static void set(ObjectNode tree, String dottedKey, String value) {
        String[] parts = dottedKey.split("\\.", -1);
        ObjectNode node = tree;
        int i = 0;
        while (i < parts.length - 1 && node.get(parts[i]) instanceof ObjectNode child) {
            node = child;
            i++;
        }
        node.put(String.join(".", Arrays.copyOfRange(parts, i, parts.length)), value);
    }

    /**
     * {@code tree} as dotted keys and text values, lists comma-separated: what {@link #set} reads
     * back. A document may so mix nesting and dotted keys ({@code kafka: {topics.raw: x}} is {@code
     * kafka.topics.raw}).
     */
    public Map<String, String> flatten(JsonNode tree) {
        Map<String, String> flat = new LinkedHashMap<>();
        flatten("", tree, flat);
        return flat;
    }

    private void flatten(String prefix, JsonNode node, Map<String, String> into) {
        if (node.isObject()) {
            node.fields()
                    .forEachRemaining(e -> flatten(prefix + e.getKey() + ".", e.getValue(), into));
        } else if (node.isNull()) {
            throw new IllegalArgumentException(
                    messages.invalid(prefix.substring(0, prefix.length() - 1), "has no value"));
        } else if (node.isArray()) {
            List<String> items = new ArrayList<>();
            node.forEach(item -> items.add(item.asText()));
            into.put(prefix.substring(0, prefix.length() - 1), String.join(",", items));
        } else {
            into.put(prefix.substring(0, prefix.length() - 1), node.asText());
        }
    }

    private static <A extends Annotation> A annotation(
            Class<?> type, RecordComponent component, Class<A> annotationType) {
        try {
            // JsonProperty and JsonIgnore do not target record components; Java copies them to the
            // field.
            return type.getDeclaredField(component.getName()).getAnnotation(annotationType);
        } catch (NoSuchFieldException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String path(JsonMappingException e) {
        StringBuilder path = new StringBuilder();
        for (JsonMappingException.Reference reference : e.getPath()) {
            if (reference.getIndex() >= 0) {
                path.append('[').append(reference.getIndex()).append(']');
            } else if (reference.getFieldName() != null) {
                path.append(path.isEmpty() ? "" : ".").append(reference.getFieldName());
            }
        }
        return path.toString();
    }

    private static String path(JsonProcessingException e) {
        return e instanceof JsonMappingException mapping ? path(mapping) : "";
    }
}
