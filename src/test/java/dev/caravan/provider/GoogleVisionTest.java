package dev.caravan.provider;

import java.io.InputStream;
import java.time.Duration;
import java.util.Map;

import dev.caravan.enrich.Document;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The page-by-page reading of a long PDF, without HTTP: when to stop, and what the result says. */
class GoogleVisionTest {

    static byte[] fixture(String name) throws Exception {
        try (InputStream in = GoogleVisionTest.class.getResourceAsStream("/stubs/" + name)) {
            return in.readAllBytes();
        }
    }

    /** The request as the provider receives it. */
    static String body(org.apache.hc.core5.http.HttpEntity entity) throws Exception {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        entity.writeTo(out);
        assertThat(out.size()).as("the declared length").isEqualTo(entity.getContentLength());
        return out.toString(java.nio.charset.StandardCharsets.UTF_8);
    }

    @Test
    void theDocumentIsSentAsBase64InsideTheJson() throws Exception {
        GoogleVision vision = vision(5);
        byte[] pdf = "%PDF-1.4 a document of a few bytes".getBytes();
        String sent = body(vision.request(vision.start(Document.inMemory(pdf, "application/pdf", "a.pdf"))));
        String content = com.fasterxml.jackson.databind.json.JsonMapper.builder().build().readTree(sent)
                .path("requests").path(0).path("inputConfig").path("content").asText();
        assertThat(java.util.Base64.getDecoder().decode(content)).isEqualTo(pdf);
    }

    static GoogleVision vision(int maxPages) {
        return new GoogleVision(new Provider("google-vision", "GOOGLE_CLOUD_API_KEY", "http://x", "k", true,
                Duration.ofSeconds(1), 1000, 0, Duration.ofMinutes(1), 0, Duration.ZERO, Duration.ofSeconds(30)), maxPages);
    }

    @Test
    void aPdfLongerThanMaxPagesIsReadUpToTheLimitAndSaysHowLongItIs() throws Exception {
        GoogleVision vision = vision(5);
        GoogleVision.Work work = vision.start(Document.inMemory("%PDF".getBytes(), "application/pdf", "long.pdf"));
        assertThat(work.isHasMore()).isTrue();
        assertThat(body(vision.request(work))).contains("\"pages\":[1,2,3,4,5]");

        vision.accept(work, fixture("vision-pdf-1.json"));

        assertThat(work.isHasMore()).as("the limit is reached").isFalse();
        Map<String, Object> result = vision.result(work);
        assertThat(result.get("page_count")).isEqualTo(5);
        assertThat(result.get("total_pages")).isEqualTo(7);
    }

    @Test
    void aPdfWithinTheLimitIsReadToTheEnd() throws Exception {
        GoogleVision vision = vision(50);
        GoogleVision.Work work = vision.start(Document.inMemory("%PDF".getBytes(), "application/pdf", "long.pdf"));
        vision.accept(work, fixture("vision-pdf-1.json"));
        assertThat(work.isHasMore()).isTrue();
        assertThat(body(vision.request(work))).contains("\"pages\":[6,7,8,9,10]");
        vision.accept(work, fixture("vision-pdf-2.json"));
        assertThat(work.isHasMore()).isFalse();
        assertThat(vision.result(work).get("page_count")).isEqualTo(7);
    }
}
