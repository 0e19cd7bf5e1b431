"""Robot IO: FEAGI's sensor encoders / motor decoders (:mod:`.coders`, the Python reference of
``firmware/feagi_io.c``) and the pin map (:mod:`.pinmap`, ``build --io io.toml``)."""
