"""Rules the registry checks on records, as plain functions without app context or database.

`profiles` loads the threshold profiles (seeds/threshold_profiles.toml); `exercise` checks an exercise
notification against them (DOMAIN.md section 6, rules 1-5).
"""
