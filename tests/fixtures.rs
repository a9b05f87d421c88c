//! One failing and one passing fixture per diagnostic code (being written).
