"""Spark for the handbook's notebooks: ``get_spark()`` (:mod:`.session`), the build's Spark Connect
server (:mod:`.server`), Java discovery (:mod:`.java`) and the generated shop data
(:mod:`.datasets`), kept together because each needs the others."""

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
