package dev.caravan.control;

import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

import dev.caravan.job.InFlightRegistry;
import org.apache.camel.spi.PropertiesComponent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Pause, resume and drain claiming from JMX or Hawtio; read what the worker holds and how it is set. */
public final class WorkerControl implements WorkerControlMBean {

    private static final Logger LOG = LoggerFactory.getLogger(WorkerControl.class);
    private static final Pattern SECRET_KEY = Pattern.compile("(?i).*(password|secret|key|token).*");
    private static final Pattern URL_CREDENTIALS = Pattern.compile("//[^/@]*@");

    private final InFlightRegistry inFlight;
    private final String workerId;
    private final PropertiesComponent properties;
    private final Map<String, String> derived;

    /** @param derived settings Caravan works out at start-up (e.g. each provider's pool size), shown with the rest */
    public WorkerControl(InFlightRegistry inFlight, String workerId, PropertiesComponent properties,
                         Map<String, String> derived) {
        this.inFlight = inFlight;
        this.workerId = workerId;
        this.properties = properties;
        this.derived = Map.copyOf(derived);
    }

    @Override
    public void pause() {
        inFlight.stopClaiming();
        LOG.info("Claiming paused ({} job(s) still running)", inFlight.size());
    }

    @Override
    public void resume() {
        inFlight.resumeClaiming();
        LOG.info("Claiming resumed");
    }

    @Override
    public int drain() {
        pause();
        return inFlight.size();
    }

    @Override
    public boolean isPaused() {
        return !inFlight.isClaiming();
    }

    @Override
    public int getInFlight() {
        return inFlight.size();
    }

    @Override
    public int getFreeSlots() {
        return inFlight.freeSlots();
    }

    @Override
    public int getCapacity() {
        return inFlight.capacity();
    }

    @Override
    public String getWorkerId() {
        return workerId;
    }

    @Override
    public Map<String, String> getConfiguration() {
        Map<String, String> out = effectiveConfiguration(properties);
        out.putAll(derived);
        return out;
    }

    /** The resolved caravan.* settings with secrets masked. */
    public static Map<String, String> effectiveConfiguration(PropertiesComponent properties) {
        Map<String, String> out = new TreeMap<>();
        for (String key : properties.loadProperties(k -> k.startsWith("caravan.")).stringPropertyNames()) {
            String value = properties.resolveProperty(key).orElse("");
            out.put(key, mask(key, value));
        }
        return out;
    }

    static String mask(String key, String value) {
        if (value.isEmpty()) {
            return value;
        }
        if (SECRET_KEY.matcher(key).matches()) {
            return "****";
        }
        String masked = URL_CREDENTIALS.matcher(value).replaceAll("//****@");
        return masked.replaceAll("(?i)(password=)[^&]*", "$1****");
    }
}
