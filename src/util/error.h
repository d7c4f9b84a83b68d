#pragma once
// Errors a user can act on: what failed, on which file, and a hint on how to fix it (llm.c style).
#include <stdexcept>
#include <string>

namespace preimage {

// An error caused by the user's input or environment (bad file, bad flag, unwritable folder).
// The CLI prints it without a stack trace and exits with status 1.
class UserError : public std::runtime_error {
 public:
  explicit UserError(const std::string& what, const std::string& hint = "");
  const std::string& hint() const { return hint_; }

 private:
  std::string hint_;
};

// Throws UserError(what, hint) when `condition` is false (`what` names the file or the value).
void require(bool condition, const std::string& what, const std::string& hint = "");

}  // namespace preimage
