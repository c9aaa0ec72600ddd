# Mail rules of alice@example.com, written by mailc from the spec.
# Edit the spec and compile again: changes made here are overwritten.
require ["copy", "envelope", "fileinto", "mailbox", "reject"];
if anyof(header :contains "Subject" "[rust]", header :contains "List-Id" "rust-lang") {
  fileinto :create "Lists.Rust";
  stop;
}
if address :all :is "from" "boss@example.net" {
  fileinto :create "Boss";
  redirect :copy "carol@example.com";
}
if envelope :all :matches "from" "*@spam.example" {
  discard;
  stop;
}
if size :over 4096 {
  fileinto :create "Large";
}
if address :all :contains ["to", "cc"] "sales@" {
  redirect "bob@example.com";
}
if header :is "X-Priority" "1" {
  keep;
  fileinto :create "Urgent";
}
if header :matches "Subject" "unsubscribe\\?me*" {
  reject "Please write to the list owner instead.";
}
