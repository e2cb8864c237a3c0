import io.debezium.engine.ChangeEvent;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.format.JsonByteArray;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The CDC bench's `debezium` row: Debezium's embedded engine (Postgres connector, pgoutput, JSON converter) hands
 * its change events to a KafkaProducer (acks=all), the way a Kafka Connect worker would write them to Kafka.
 *
 * <p>Usage: {@code java -cp … DebeziumBench <properties file>}. The file holds the engine's properties plus
 * {@code bench.brokers}, {@code bench.topic} (the table's topic) and {@code bench.expect} (changes of the burst).
 * It talks to the bench on stdout, one line each: {@code FIRST} when the engine hands over its first batch,
 * {@code ACKED <n>} while Kafka acknowledges changes of the table's
 * topic (for the bench's stall check), {@code DONE <n>} the moment Kafka has acknowledged the {@code n}th,
 * {@code FAILED <why>} before exiting on a failure. The bench stops it with SIGTERM.
 */
public final class DebeziumBench {
  private static final Object OUT = new Object();

  public static void main(String[] args) throws Exception {
    Properties props = new Properties();
    try (InputStream in = Files.newInputStream(Path.of(args[0]))) {
      props.load(in);
    }
    String brokers = take(props, "bench.brokers");
    String topic = take(props, "bench.topic");
    long expect = Long.parseLong(take(props, "bench.expect"));

    // One partition, like our source's topics: a table's changes stay in commit order.
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", brokers))) {
      admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get(60, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      if (!(e.getCause() instanceof TopicExistsException)) throw e;
    }

    // kafka-clients' defaults (idempotent, up to 5 requests in flight, its batching) apart from what is spelled out.
    Properties producerProps = new Properties();
    producerProps.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
    producerProps.put(ProducerConfig.ACKS_CONFIG, "all");
    producerProps.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    producerProps.put(ProducerConfig.CLIENT_ID_CONFIG, "bench-debezium");
    producerProps.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    producerProps.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(producerProps);

    AtomicLong acked = new AtomicLong();
    AtomicBoolean first = new AtomicBoolean();
    DebeziumEngine<ChangeEvent<byte[], byte[]>> engine = DebeziumEngine.create(JsonByteArray.class)
        .using(props)
        .notifying((records, committer) -> {
          if (!records.isEmpty() && first.compareAndSet(false, true)) say("FIRST");
          for (ChangeEvent<byte[], byte[]> r : records) {
            boolean counted = topic.equals(r.destination());
            producer.send(new ProducerRecord<>(r.destination(), r.key(), r.value()), (meta, err) -> {
              if (err != null) fail("producing to " + r.destination() + " failed: " + err);
              else if (counted && acked.incrementAndGet() == expect) say("DONE " + expect);
            });
            // Offsets only reach the store at its flush interval (60 s, past the burst): sends are not awaited
            // here, so the engine never waits for Kafka between batches (the fastest way to run it).
            committer.markProcessed(r);
          }
          committer.markBatchFinished();
        })
        .using((success, message, error) -> {
          if (!success || error != null) fail("the engine stopped: " + message + (error == null ? "" : " (" + error + ")"));
        })
        .build();

    ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor();
    long[] last = {-1};
    ticker.scheduleAtFixedRate(() -> {
      long n = acked.get();
      if (n != last[0]) say("ACKED " + n);
      last[0] = n;
    }, 0, 250, TimeUnit.MILLISECONDS);

    ExecutorService executor = Executors.newSingleThreadExecutor();
    executor.execute(engine);
  }

  private static String take(Properties props, String key) {
    String value = (String) props.remove(key);
    if (value == null || value.isEmpty()) throw new IllegalArgumentException("missing property " + key);
    return value;
  }

  private static void say(String line) {
    synchronized (OUT) {
      System.out.println(line);
      System.out.flush();
    }
  }

  private static void fail(String why) {
    say("FAILED " + why.replace('\n', ' '));
    Runtime.getRuntime().halt(1);
  }
}
