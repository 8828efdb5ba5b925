import re

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils.translation import gettext


class LettersAndDigitsValidator:
    def validate(self, password, user=None):
        if not (re.search(r"[A-Za-z]", password) and re.search(r"\d", password)):
            raise ValidationError(gettext("密码须同时包含字母和数字"), code="password_letters_and_digits")

    def get_help_text(self):
        return gettext("密码须同时包含字母和数字。")


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    """Django 5.2's own message for this rule lost its Chinese translation (its msgid changed)."""

    def get_error_message(self):
        return gettext("密码太短，至少需要 %(min_length)d 个字符") % {"min_length": self.min_length}
