import pytest
from django.core.exceptions import ValidationError

from aishang.core.masking import mask_id_number, mask_phone
from aishang.core.testing import make_resident_id
from aishang.core.validators import validate_mobile, validate_resident_id


def test_it_accepts_a_resident_id_with_the_right_check_digit():
    validate_resident_id("11010519491231002X")


def test_it_rejects_a_resident_id_with_a_wrong_check_digit():
    with pytest.raises(ValidationError, match="校验位"):
        validate_resident_id("110105194912310021")


def test_it_rejects_a_resident_id_with_an_impossible_birth_date():
    first17 = "11010519490231002"
    with pytest.raises(ValidationError, match="出生日期"):
        validate_resident_id(first17 + "X")


def test_it_rejects_a_resident_id_of_the_wrong_length():
    with pytest.raises(ValidationError, match="18 位"):
        validate_resident_id("1101051949123100")


def test_generated_ids_are_valid():
    validate_resident_id(make_resident_id("19900315", "456"))


@pytest.mark.parametrize("mobile", ["1380013800", "23800138000", "12800138000", "138001380001", "1380013800a"])
def test_it_rejects_malformed_mobile_numbers(mobile):
    with pytest.raises(ValidationError, match="手机号"):
        validate_mobile(mobile)


def test_masks_keep_only_the_ends():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_id_number("11010519491231002X") == "1101**********002X"
    assert mask_phone("") == ""
