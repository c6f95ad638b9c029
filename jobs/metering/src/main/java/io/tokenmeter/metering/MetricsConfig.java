package io.tokenmeter.metering;

import static io.tokenmeter.config.YamlBinding.require;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import io.tokenmeter.config.TextList;
import io.tokenmeter.logic.ingest.MetricLabels;
import java.io.Serializable;
import java.util.HashSet;
import java.util.List;

/**
 * The label values of the business metrics ({@code metrics.*}); anything else folds into "other".
 *
 * @param regions at most 100
 * @param models the top models by traffic; at most 50
 */
public record MetricsConfig(
        @JsonDeserialize(using = TextList.class)
                @JsonProperty(
                        defaultValue =
                                "CN-AH,CN-BJ,CN-CQ,CN-FJ,CN-GD,CN-GS,CN-GX,CN-GZ,CN-HA,CN-HB,CN-HE,CN-HI,"
                                        + "CN-HL,CN-HN,CN-JL,CN-JS,CN-JX,CN-LN,CN-NM,CN-NX,CN-QH,CN-SC,CN-SD,CN-SH,CN-SN,CN-SX,CN-TJ,CN-XJ,"
                                        + "CN-XZ,CN-YN,CN-ZJ")
                List<String> regions,
        @JsonDeserialize(using = TextList.class)
                @JsonProperty(
                        defaultValue =
                                "deepseek-v3.2,qwen3-max,qwen3-coder-plus,doubao-seed-1.6,glm-4.6,kimi-k2,"
                                        + "ernie-4.5,hunyuan-t1,qwen-image,seedream-4.0,hunyuan-image-3,cosyvoice-2,doubao-seed-tts,wan2.5-t2v,"
                                        + "seedance-1.0")
                List<String> models)
        implements Serializable {

    public MetricsConfig {
        regions = List.copyOf(regions);
        models = List.copyOf(models);
        require(
                regions.size() <= 100,
                "regions",
                "may name at most 100 regions (each is a label value)");
        require(
                models.size() <= 50,
                "models",
                "may name at most 50 models (each is a label value)");
    }

    /** The bounded label values. */
    public MetricLabels labels() {
        return new MetricLabels(new HashSet<>(regions), new HashSet<>(models));
    }
}
