# Mail rules of bob@example.com, written by mailc from the spec.
# Edit the spec and compile again: changes made here are overwritten.
require ["date", "fileinto", "mailbox", "relational", "vacation"];
if allof(currentdate :value "ge" "date" "2020-01-01", currentdate :value "le" "date" "2099-12-31") {
  vacation :days 7 :subject "Away until Monday" :addresses ["robert@example.com"] "I am away until Monday.
Alice reads my mail meanwhile.";
}
if header :matches "List-Id" "*" {
  fileinto :create "Lists";
}
if header :is "Subject" "spam" {
  discard;
}
