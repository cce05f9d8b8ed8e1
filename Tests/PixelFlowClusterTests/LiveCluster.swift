import Testing

/// Every live-cluster suite, one test at a time: they start real processes and load both cores (connection
/// churn, fuzzing, large results), and timing-sensitive checks must not share the machine with each other.
@Suite(.serialized)
enum LiveCluster {}
