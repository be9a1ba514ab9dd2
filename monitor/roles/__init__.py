"""Running the monitor by role over Kafka: fetch instances and the story tier."""
