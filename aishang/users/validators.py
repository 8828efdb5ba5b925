import re

from django.core.exceptions import ValidationError


class LettersAndDigitsValidator:
    def validate(self, password, user=None):
        if not (re.search(r"[A-Za-z]", password) and re.search(r"\d", password)):
            raise ValidationError("密码须同时包含字母和数字", code="password_letters_and_digits")

    def get_help_text(self):
        return "密码须同时包含字母和数字。"
