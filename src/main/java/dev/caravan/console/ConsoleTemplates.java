package dev.caravan.console;

import java.io.IOException;
import java.io.StringWriter;
import java.util.Locale;
import java.util.Map;

import freemarker.core.TemplateClassResolver;
import freemarker.template.Configuration;
import freemarker.template.TemplateException;
import freemarker.template.TemplateExceptionHandler;

/**
 * The console's pages as FreeMarker templates, {@code src/main/resources/console/pages/*.ftlh}: the
 * {@code .ftlh} extension makes every {@code ${…}} HTML-escaped, so a value from a job (its name, its
 * payload, an error message) is shown, never run. The templates get plain values (texts, numbers,
 * booleans, lists and maps) that {@link ConsolePages} prepares from the SQL rows.
 */
final class ConsoleTemplates {

    private final Configuration config = new Configuration(Configuration.VERSION_2_3_34);

    ConsoleTemplates() {
        config.setClassForTemplateLoading(ConsoleTemplates.class, "/console/pages");
        config.setDefaultEncoding("UTF-8");
        config.setRecognizeStandardFileExtensions(true);
        config.setLocale(Locale.ROOT);
        config.setNumberFormat("computer");
        // a template's mistake is an error page and a log line, never half a page
        config.setTemplateExceptionHandler(TemplateExceptionHandler.RETHROW_HANDLER);
        config.setLogTemplateExceptions(false);
        config.setWrapUncheckedExceptions(true);
        config.setFallbackOnNullLoopVariable(false);
        // templates only show what they are given: no Java classes created or reached from them
        config.setNewBuiltinClassResolver(TemplateClassResolver.ALLOWS_NOTHING_RESOLVER);
        config.setAPIBuiltinEnabled(false);
    }

    String render(String page, Map<String, Object> model) {
        StringWriter out = new StringWriter(4096);
        try {
            config.getTemplate(page + ".ftlh").process(model, out);
        } catch (IOException | TemplateException e) {
            throw new IllegalStateException("console page " + page + ": " + e.getMessage(), e);
        }
        return out.toString();
    }
}
