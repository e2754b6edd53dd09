#!/usr/bin/env python3
"""Generates a province's directory as a `congvu directory import` CSV.

1 provincial office, 30 departments, 27 districts each with 12 offices, and N officials
(default 20,000) with realistic Vietnamese names: family names in their real
proportions, so namesakes — in one agency too — occur as they do in life; a few exact
duplicates (the same person listed twice with the same person id) are NOT generated,
since the import refuses those; ~70% of officials carry a unique 12-digit CCCD number.

Deterministic for a given --seed. Usage:
    python3 tests/py/gen_province.py --officials 20000 --seed 1 > province.csv
"""

import argparse
import random
import sys

FAMILY = [  # (name, weight in percent) — national frequencies, rounded
    ("Nguyễn", 38), ("Trần", 11), ("Lê", 9.5), ("Phạm", 7), ("Hoàng", 5.1), ("Phan", 4.5),
    ("Vũ", 3.9), ("Đặng", 2.1), ("Bùi", 2), ("Đỗ", 1.4), ("Hồ", 1.3), ("Ngô", 1.3),
    ("Dương", 1), ("Lý", 0.5), ("Trịnh", 0.8), ("Mai", 0.6), ("Lương", 0.5), ("Hà", 0.6),
    ("Đinh", 0.6), ("Tô", 0.3), ("Cao", 0.4), ("Lò", 0.2), ("Quách", 0.2),
]
MIDDLE_M = ["Văn", "Đức", "Minh", "Hữu", "Quang", "Xuân", "Ngọc", "Thanh", "Công", "Đình", "Trọng", "Anh", "Mạnh", "Tiến"]
MIDDLE_F = ["Thị", "Thị", "Thị", "Ngọc", "Thu", "Thanh", "Hồng", "Minh", "Phương", "Thùy", "Lan", "Kim", "Mai"]
GIVEN_M = ["Anh", "Bình", "Cường", "Dũng", "Đạt", "Đức", "Giang", "Hải", "Hùng", "Huy", "Khánh", "Long", "Minh",
           "Nam", "Nghĩa", "Phong", "Phúc", "Quân", "Quang", "Sơn", "Tâm", "Thắng", "Thành", "Toàn", "Trung",
           "Tuấn", "Tùng", "Việt", "Vinh", "Hiếu", "Hoàng", "Kiên", "Lâm", "Lợi", "Thịnh", "Tú", "Hưng", "Hà"]
GIVEN_F = ["An", "Anh", "Chi", "Dung", "Giang", "Hà", "Hạnh", "Hằng", "Hiền", "Hoa", "Hồng", "Huệ", "Hương",
           "Lan", "Liên", "Linh", "Loan", "Mai", "Nga", "Ngọc", "Nhung", "Oanh", "Phương", "Quyên", "Thảo",
           "Thu", "Thúy", "Trang", "Tuyết", "Vân", "Yến", "Hậu", "Lệ", "Nhàn", "Tâm", "Xuân"]
POSITIONS = ["Chuyên viên", "Chuyên viên", "Chuyên viên", "Chuyên viên chính", "Cán sự", "Văn thư",
             "Kế toán", "Phó Trưởng phòng", "Trưởng phòng", "Phó Giám đốc", "Thanh tra viên"]
DEPARTMENTS_IN = ["Văn phòng", "Phòng Tổ chức cán bộ", "Phòng Kế hoạch - Tài chính", "Thanh tra",
                  "Phòng Nghiệp vụ 1", "Phòng Nghiệp vụ 2", "Phòng Pháp chế"]

DEPARTMENTS = [  # (abbreviation, name)
    ("snv", "Sở Nội vụ"), ("stc", "Sở Tài chính"), ("skhdt", "Sở Kế hoạch và Đầu tư"),
    ("sct", "Sở Công Thương"), ("snnptnt", "Sở Nông nghiệp và Phát triển nông thôn"),
    ("sgtvt", "Sở Giao thông vận tải"), ("sxd", "Sở Xây dựng"), ("stnmt", "Sở Tài nguyên và Môi trường"),
    ("sttt", "Sở Thông tin và Truyền thông"), ("sldtbxh", "Sở Lao động - Thương binh và Xã hội"),
    ("svhttdl", "Sở Văn hóa, Thể thao và Du lịch"), ("skhcn", "Sở Khoa học và Công nghệ"),
    ("sgddt", "Sở Giáo dục và Đào tạo"), ("syt", "Sở Y tế"), ("stp", "Sở Tư pháp"),
    ("sngv", "Sở Ngoại vụ"), ("ttt", "Thanh tra tỉnh"), ("bdt", "Ban Dân tộc"),
    ("bqlkkt", "Ban Quản lý Khu kinh tế Nghi Sơn và các khu công nghiệp"),
    ("vphdnd", "Văn phòng Đoàn ĐBQH và HĐND tỉnh"), ("bqlda", "Ban Quản lý dự án đầu tư xây dựng"),
    ("qptt", "Quỹ Phát triển đất"), ("ttxttm", "Trung tâm Xúc tiến Đầu tư, Thương mại và Du lịch"),
    ("dptth", "Đài Phát thanh và Truyền hình"), ("bthh", "Báo Thanh Hóa"),
    ("tthcc", "Trung tâm Phục vụ hành chính công"), ("ttcntt", "Trung tâm Công nghệ thông tin"),
    ("bqlddt", "Ban Quản lý Di tích Thành nhà Hồ"), ("qdtpt", "Quỹ Đầu tư phát triển"),
    ("cdvh", "Trường Cao đẳng Văn hóa Nghệ thuật"),
]
DISTRICTS = [  # (abbreviation, name) — Thanh Hóa's 27 district-level units
    ("tpthanhhoa", "UBND thành phố Thanh Hóa"), ("samson", "UBND thành phố Sầm Sơn"),
    ("bimson", "UBND thị xã Bỉm Sơn"), ("nghison", "UBND thị xã Nghi Sơn"),
    ("hatrung", "UBND huyện Hà Trung"), ("hauloc", "UBND huyện Hậu Lộc"),
    ("hoanghoa", "UBND huyện Hoằng Hóa"), ("ngason", "UBND huyện Nga Sơn"),
    ("quangxuong", "UBND huyện Quảng Xương"), ("nongcong", "UBND huyện Nông Cống"),
    ("dongson", "UBND huyện Đông Sơn"), ("thieuhoa", "UBND huyện Thiệu Hóa"),
    ("yendinh", "UBND huyện Yên Định"), ("thoxuan", "UBND huyện Thọ Xuân"),
    ("trieuson", "UBND huyện Triệu Sơn"), ("vinhloc", "UBND huyện Vĩnh Lộc"),
    ("thachthanh", "UBND huyện Thạch Thành"), ("camthuy", "UBND huyện Cẩm Thủy"),
    ("ngoclac", "UBND huyện Ngọc Lặc"), ("nhuthanh", "UBND huyện Như Thanh"),
    ("nhuxuan", "UBND huyện Như Xuân"), ("thuongxuan", "UBND huyện Thường Xuân"),
    ("langchanh", "UBND huyện Lang Chánh"), ("batthuoc", "UBND huyện Bá Thước"),
    ("quanhoa", "UBND huyện Quan Hóa"), ("quanson", "UBND huyện Quan Sơn"),
    ("muonglat", "UBND huyện Mường Lát"),
]
OFFICES = [
    ("pnv", "Phòng Nội vụ"), ("ptckh", "Phòng Tài chính - Kế hoạch"), ("ptnmt", "Phòng Tài nguyên và Môi trường"),
    ("pvhtt", "Phòng Văn hóa và Thông tin"), ("pgddt", "Phòng Giáo dục và Đào tạo"), ("pyt", "Phòng Y tế"),
    ("ptp", "Phòng Tư pháp"), ("pktht", "Phòng Kinh tế và Hạ tầng"),
    ("pnnptnt", "Phòng Nông nghiệp và Phát triển nông thôn"),
    ("pldtbxh", "Phòng Lao động - Thương binh và Xã hội"), ("ttra", "Thanh tra huyện"),
    ("vp", "Văn phòng HĐND và UBND"),
]


def csv_field(value):
    if any(c in value for c in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def name(rng):
    family = rng.choices([f for f, _ in FAMILY], weights=[w for _, w in FAMILY])[0]
    if rng.random() < 0.5:
        middles = [rng.choice(MIDDLE_M)] + ([rng.choice(MIDDLE_M)] if rng.random() < 0.1 else [])
        given = rng.choice(GIVEN_M)
    else:
        middles = [rng.choice(MIDDLE_F)] + ([rng.choice(MIDDLE_F)] if rng.random() < 0.1 else [])
        given = rng.choice(GIVEN_F)
    return " ".join([family] + middles + [given])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--officials", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    out = sys.stdout
    # Excel's "CSV UTF-8" starts with a BOM: the import must take it.
    out.write("\ufeffkind,agency,parent,name,person_id,position,department,phone\r\n")

    def row(*fields):
        out.write(",".join(csv_field(f) for f in fields) + "\r\n")

    agencies = []
    row("agency", "vpubnd", "", "Văn phòng UBND tỉnh", "", "", "", "")
    agencies.append(("vpubnd", 150))
    for abbr, title in DEPARTMENTS:
        row("agency", abbr, "", title, "", "", "", "")
        agencies.append((abbr, 120))
    for abbr, title in DISTRICTS:
        row("agency", abbr, "", title, "", "", "", "")
        agencies.append((abbr, 60))
        for office, office_name in OFFICES:
            row("agency", office, abbr, office_name, "", "", "", "")
            agencies.append((f"{office}.{abbr}", 0))
    fixed = sum(n for _, n in agencies)
    offices = [i for i, (_, n) in enumerate(agencies) if n == 0]
    rest = max(args.officials - fixed, 0)
    for k, i in enumerate(offices):
        share = rest // len(offices) + (1 if k < rest % len(offices) else 0)
        agencies[i] = (agencies[i][0], share)
    # Trim when fewer officials than the fixed shares were asked for.
    budget = args.officials
    person = 0
    for abbr, count in agencies:
        for _ in range(min(count, budget)):
            person += 1
            # Unique: 7919 is prime to 10^9, so this is a bijection on the counter.
            person_id = f"038{(person * 7919 + 1_000_003) % 10**9:09d}" if rng.random() < 0.7 else ""
            phone = f"09{rng.randint(0, 99_999_999):08d}" if rng.random() < 0.6 else ""
            row("official", abbr, "", name(rng), person_id, rng.choice(POSITIONS),
                rng.choice(DEPARTMENTS_IN), phone)
        budget -= min(count, budget)


if __name__ == "__main__":
    main()
