#pragma once
// The user's cache: the one place outside a run folder that preimage writes to. Things that
// cost minutes to make and serve many runs (the classifier of a data set) are kept there, keyed
// by what they were made from, so that a second run finds them and no run leaves files beside
// its folder.
#include <filesystem>

namespace preimage::util {

// $XDG_CACHE_HOME/preimage when that variable is set to an absolute path (the XDG base
// directory rule), else $HOME/.cache/preimage. Not created here. Throws UserError when neither
// variable gives a place.
std::filesystem::path user_cache_dir();

}  // namespace preimage::util
