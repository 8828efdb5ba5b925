import collections

from aishang.notifications.backends import Delivery, DeliveryError


class ScriptedBackend:
    """Answers from ``outcomes`` in turn (an exception to raise, or success), and remembers what it sent."""

    outcomes = collections.deque()
    sent = []

    def send(self, message):
        outcome = self.outcomes.popleft() if self.outcomes else None
        if isinstance(outcome, Exception):
            raise outcome
        self.sent.append(message.pk)
        return Delivery("scripted", f"scripted-{message.pk}")

    @classmethod
    def reset(cls, *outcomes):
        cls.outcomes = collections.deque(outcomes)
        cls.sent = []


def transient(text="isv.BUSINESS_LIMIT_CONTROL: 触发分钟级流控"):
    return DeliveryError(text, retryable=True)


def permanent(text="isv.MOBILE_NUMBER_ILLEGAL: 非法手机号"):
    return DeliveryError(text, retryable=False)
