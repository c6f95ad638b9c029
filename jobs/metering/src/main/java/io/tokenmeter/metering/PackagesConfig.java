package io.tokenmeter.metering;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.io.Serializable;

/**
 * Token packages ({@code packages.*}).
 *
 * @param catalog a catalog file such as config/packages.yaml; empty: no packages
 */
public record PackagesConfig(@JsonProperty(defaultValue = "") String catalog)
        implements Serializable {

    public PackagesConfig {
        catalog = catalog.trim();
    }
}
