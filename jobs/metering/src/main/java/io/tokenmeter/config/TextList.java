package io.tokenmeter.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A list of strings written as a YAML sequence or, on the command line, as one comma-separated text
 * ({@code --set metrics.models=a,b}); blank items dropped.
 */
public final class TextList extends JsonDeserializer<List<String>> {

    @Override
    public List<String> deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
        List<String> items = new ArrayList<>();
        if (p.currentToken() == JsonToken.START_ARRAY) {
            while (p.nextToken() != JsonToken.END_ARRAY) {
                items.add(p.getValueAsString());
            }
        } else {
            items.addAll(Arrays.asList(p.getValueAsString().split(",")));
        }
        return items.stream().map(String::trim).filter(item -> !item.isEmpty()).toList();
    }
}
