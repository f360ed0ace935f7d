package dev.caravan.provider;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A model's prices per million input and output tokens, in the prices' currency (USD for the providers'
 * published ones): caravan.providers.&lt;name&gt;.prices.
 */
public record Price(BigDecimal input, BigDecimal output) {

    private static final BigDecimal MILLION = BigDecimal.valueOf(1_000_000);

    BigDecimal of(long inputTokens, long outputTokens) {
        return input.multiply(BigDecimal.valueOf(inputTokens)).add(output.multiply(BigDecimal.valueOf(outputTokens)))
                .divide(MILLION, MathContext.DECIMAL64);
    }

    /** "gpt-4o-mini=0.15/0.60, gpt-4o=2.50/10" (per million input/output tokens). */
    public static Map<String, Price> parse(String setting) {
        Map<String, Price> out = new LinkedHashMap<>();
        if (setting == null || setting.isBlank()) {
            return out;
        }
        for (String entry : setting.split(",")) {
            if (entry.isBlank()) {
                continue;
            }
            int eq = entry.indexOf('=');
            int slash = entry.indexOf('/', eq + 1);
            if (eq <= 0 || slash < 0) {
                throw new IllegalArgumentException("'" + entry.trim() + "' is not model=input/output (prices per million tokens)");
            }
            try {
                out.put(entry.substring(0, eq).trim(), new Price(new BigDecimal(entry.substring(eq + 1, slash).trim()),
                        new BigDecimal(entry.substring(slash + 1).trim())));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("'" + entry.trim() + "': the prices are not numbers");
            }
        }
        return out;
    }
}
