//! Load-test harness for agent-core (scenarios, runner, metrics, reports).
