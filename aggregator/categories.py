"""The normalized category scheme shared by every newspaper.

Site definitions map their own sections onto these keys, so one category feed
spans all provinces. A section no definition maps becomes its own key (an ASCII
slug); its label is then the key itself.
"""

from __future__ import annotations

__all__ = ["CATEGORY_LABELS", "category_label"]

CATEGORY_LABELS: dict[str, str] = {
    "thoi-su": "Thời sự",
    "chinh-tri": "Chính trị",
    "xay-dung-dang": "Xây dựng Đảng",
    "kinh-te": "Kinh tế",
    "xa-hoi": "Xã hội",
    "van-hoa": "Văn hóa",
    "giao-duc": "Giáo dục",
    "y-te": "Y tế",
    "phap-luat": "Pháp luật",
    "quoc-phong-an-ninh": "Quốc phòng - An ninh",
    "the-thao": "Thể thao",
    "quoc-te": "Quốc tế",
    "khoa-hoc-cong-nghe": "Khoa học - Công nghệ",
    "du-lich": "Du lịch",
    "moi-truong": "Môi trường",
    "ban-doc": "Bạn đọc",
    "phong-su": "Phóng sự",
    "dia-phuong": "Địa phương",
}


def category_label(key: str) -> str:
    """Vietnamese display name of a category key (the key itself if unknown)."""
    return CATEGORY_LABELS.get(key, key)
