# Caravan as a container: build the jar with the Maven wrapper, run it on a JRE 17 as a non-root user.
# No Docker engine runs on the build machine: this file is checked by ContainerFilesTest and by reading.
FROM eclipse-temurin:17-jdk AS build
WORKDIR /src
COPY .mvn/ .mvn/
COPY mvnw pom.xml ./
# the dependencies in a layer of their own, reused while pom.xml stays the same
RUN ./mvnw -B -q dependency:resolve
COPY src/ src/
# (-Dcds.skip: the class-data archive fits the JDK that made it; this image runs the jar without one)
RUN ./mvnw -B -q package -DskipTests -Dcds.skip

FROM eclipse-temurin:17-jre
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 caravan \
 && useradd --system --uid 10001 --gid caravan --home-dir /app caravan \
 && mkdir -p /app/routes /app/results /app/data \
 && chown -R caravan:caravan /app
WORKDIR /app
COPY --from=build /src/target/caravan.jar /app/caravan.jar
COPY jvm.options /app/jvm.options
# by number, so that Kubernetes' runAsNonRoot can check it (ops/k8s/deployment.yaml)
USER 10001:10001
# an operator's routes folder and the PDF gateway's results, mounted as volumes
ENV CARAVAN_ROUTES_DIR=/app/routes \
    CARAVAN_DATA_DIR=/app/data \
    HEALTH_CHECK_PORT=10000 \
    API_HOST=0.0.0.0 \
    CARAVAN_STORAGE_ROOT=/app/data/storage \
    SHUTDOWN_TIMEOUT_SECONDS=30
VOLUME ["/app/routes", "/app/results", "/app/data"]
# 8080: the HTTP API (needs CARAVAN_API_KEY, since it listens on every interface); 10000: health, metrics
# (the health check follows HEALTH_CHECK_PORT when it is set to another port)
EXPOSE 8080 10000
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 \
  CMD curl -fsS "http://127.0.0.1:${HEALTH_CHECK_PORT:-10000}/health" || exit 1
# SIGTERM starts the graceful stop: claiming stops, running jobs get SHUTDOWN_TIMEOUT_SECONDS, the rest
# goes back to pending. Give the container more than that to stop (compose: stop_grace_period 60s,
# docker run --stop-timeout 60, Kubernetes terminationGracePeriodSeconds 60).
STOPSIGNAL SIGTERM
ENTRYPOINT ["java", "@/app/jvm.options", "-XX:MaxRAMPercentage=75", "-jar", "/app/caravan.jar"]
