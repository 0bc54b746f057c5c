"""One in-process event bus: the lane announces what happened; listeners decide what to do.

The console's live view, the MQTT status publisher, metrics and the simulator all listen here;
the lane never knows who does. A failing listener is logged and never reaches the lane.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BusEvent:
    """``topic`` names what happened (entry, step, prompt, alarm, device, reject, relay)."""

    topic: str
    lane: str
    data: Mapping[str, Any] = field(default_factory=dict)


Listener = Callable[[BusEvent], None]


class Bus:
    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Add a listener; returns the function that removes it."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def publish(self, topic: str, lane: str, **data: Any) -> None:
        event = BusEvent(topic, lane, data)
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(event)
            except Exception:  # a listener's bug must never stop the lane
                log.exception("bus listener %r failed on %s", listener, topic)
