#include "fulfillment/js_json.hpp"

#include <gtest/gtest.h>

namespace fg::fulfillment {
namespace {

// Vectors made with Node 20: JSON.stringify(sortObject(JSON.parse(body))) and
// crypto.createHmac("sha512", "ipn-secret") over it (sortObject sorts keys recursively).
struct Vector {
  const char* body;
  const char* canonical;
  const char* signature;
};
const Vector kVectors[] = {
    {R"JSON({"payment_id":5077125051,"payment_status":"finished","pay_address":"0x9d","price_amount":50.0,"price_currency":"usd","pay_amount":0.09853637216235617,"actually_paid":0.09853637216235617,"pay_currency":"eth","order_id":"ord-1","order_description":"Caf\u00e9 \"beans\" / tea","purchase_id":"5837122679","outcome_amount":1e21,"outcome_currency":"eth","fee":{"currency":"eth","depositFee":0.0000001,"withdrawalFee":1e-7,"serviceFee":123456789012345680000}})JSON",
     R"JSON({"actually_paid":0.09853637216235617,"fee":{"currency":"eth","depositFee":1e-7,"serviceFee":123456789012345680000,"withdrawalFee":1e-7},"order_description":"Café \"beans\" / tea","order_id":"ord-1","outcome_amount":1e+21,"outcome_currency":"eth","pay_address":"0x9d","pay_amount":0.09853637216235617,"pay_currency":"eth","payment_id":5077125051,"payment_status":"finished","price_amount":50,"price_currency":"usd","purchase_id":"5837122679"})JSON",
     "6767adc1857f724a868e740d52732d222d9872a8bf219a47978b792f244c8efcc92e51ea82dbe74d279b0f504a6f813a3ac191f60b1d78223"
     "37b3ec92ce35702"},
    {R"JSON({"b":1,"a":{"z":[3,{"y":2,"x":1}],"10":"ten","2":"two","é":"e-acute","Z":0},"s":"\u2028\ud83d\ude00 ünïcödé 日本\n\t\u0001","n":-0.0,"m":100,"k":1.5e300,"j":123e-20,"i":0.1,"h":1E2,"g":-5e-7,"f":true,"e":null})JSON",
     R"JSON({"a":{"2":"two","10":"ten","Z":0,"z":[3,{"x":1,"y":2}],"é":"e-acute"},"b":1,"e":null,"f":true,"g":-5e-7,"h":100,"i":0.1,"j":1.23e-18,"k":1.5e+300,"m":100,"n":0,"s":" 😀 ünïcödé 日本\n\t\u0001"})JSON",
     "45f821fe5461165a169df5d3a2d517d842503c93a5b9bffdc5a35cb0f14adc821ed762afb346ee00b91b62a2df6c23a96a478c669c324da27"
     "0e8bf61a995858d"},
    {R"JSON({"x":"\ud800lone","arr":[],"obj":{},"big":9007199254740993,"neg":-1234.5678})JSON",
     R"JSON({"arr":[],"big":9007199254740992,"neg":-1234.5678,"obj":{},"x":"\ud800lone"})JSON",
     "85488ee1f8d427f77933fe9b4d7f6b75df8eaed1cfe29c46c88f01dadf96e2b0d2e9df31b029627485ecb93da2f204ef765520db1cc0617f4"
     "980288df584fbf6"},
};

TEST(JsJson, MatchesNodeJsonStringifyOfSortedObject) {
  for (const auto& v : kVectors) {
    auto c = CanonicalJson(v.body);
    ASSERT_TRUE(c) << v.body;
    EXPECT_EQ(*c, v.canonical);
  }
}

TEST(JsJson, NowPaymentsSignatureMatchesNode) {
  for (const auto& v : kVectors) {
    EXPECT_EQ(NowPaymentsSignature(v.body, "ipn-secret"), std::string(v.signature));
    EXPECT_TRUE(VerifyNowPaymentsSignature(v.body, v.signature, "ipn-secret"));
    std::string upper(v.signature);
    for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    EXPECT_TRUE(VerifyNowPaymentsSignature(v.body, upper, "ipn-secret")) << "hex case does not matter";
    EXPECT_FALSE(VerifyNowPaymentsSignature(v.body, v.signature, "other-secret"));
  }
}

TEST(JsJson, ManyKeysAreBoundedAndDuplicatesKeepTheLast) {
  std::string body = "{";
  for (int i = 0; i < 5000; ++i) body += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
  body += "\"k7\":\"last\"}";
  auto canonical = CanonicalJson(body);
  ASSERT_TRUE(canonical);
  EXPECT_NE(canonical->find("\"k7\":\"last\""), std::string::npos);
  EXPECT_EQ(canonical->find("\"k7\":7"), std::string::npos);
  std::string huge = "[";
  for (int i = 0; i < 10'001; ++i) huge += i ? ",0" : "0";
  huge += "]";
  EXPECT_FALSE(CanonicalJson(huge)) << "more than 10,000 values";
}

TEST(JsJson, KeyOrderOfTheBodyDoesNotMatter) {
  EXPECT_EQ(NowPaymentsSignature(R"({"b":1,"a":{"d":2,"c":3}})", "s"),
            NowPaymentsSignature(R"({"a":{"c":3,"d":2},"b":1})", "s"));
}

TEST(JsJson, RejectsTamperingAndGarbage) {
  const auto& v = kVectors[0];
  std::string tampered(v.body);
  tampered.replace(tampered.find("finished"), 8, "finishee");
  EXPECT_FALSE(VerifyNowPaymentsSignature(tampered, v.signature, "ipn-secret"));
  EXPECT_FALSE(VerifyNowPaymentsSignature(v.body, "", "ipn-secret"));
  EXPECT_FALSE(VerifyNowPaymentsSignature(v.body, "zz", "ipn-secret"));
  for (const char* bad : {"", "{", "{\"a\":}", "[1,]", "01", "1.", "\"\\x\"", "{\"a\":1}x", "nul", "\"\x01\""}) {
    EXPECT_FALSE(CanonicalJson(bad)) << bad;
  }
  std::string deep(100, '[');
  deep += std::string(100, ']');
  EXPECT_FALSE(CanonicalJson(deep)) << "depth is bounded";
}

TEST(JsJson, InvalidUtf8BecomesReplacementCharactersAndOrderIsStable) {
  // Found by fuzz/ipn_json_fuzz.cpp: "\xD2." and "\xD2n" once decoded to the same sort key.
  const std::string body = "{\"451-\xD2n\":1,\"451-\xD2.\":2,\"k\xFF\":3}";
  auto once = CanonicalJson(body);
  ASSERT_TRUE(once);
  EXPECT_EQ(*once, "{\"451-\xEF\xBF\xBD.\":2,\"451-\xEF\xBF\xBDn\":1,\"k\xEF\xBF\xBD\":3}");
  EXPECT_EQ(CanonicalJson(*once), once) << "the canonical form is a fixed point";
}

TEST(JsJson, NumbersAsJavaScriptPrintsThem) {
  EXPECT_EQ(JsNumber(50.0), "50");
  EXPECT_EQ(JsNumber(0.09853637216235617), "0.09853637216235617");
  EXPECT_EQ(JsNumber(1e21), "1e+21");
  EXPECT_EQ(JsNumber(1e20), "100000000000000000000");
  EXPECT_EQ(JsNumber(1e-7), "1e-7");
  EXPECT_EQ(JsNumber(1e-6), "0.000001");
  EXPECT_EQ(JsNumber(-0.0), "0");
  EXPECT_EQ(JsNumber(123.456), "123.456");
  EXPECT_EQ(JsNumber(-1.5e-10), "-1.5e-10");
  EXPECT_EQ(JsNumber(5e-324), "5e-324");
  EXPECT_EQ(JsNumber(1.7976931348623157e308), "1.7976931348623157e+308");
}

}  // namespace
}  // namespace fg::fulfillment

namespace fg::fulfillment {
namespace {

TEST(JsJson, ParsedBodyKeepsRawTextAndTheLastDuplicate) {
  const auto body =
      ParseBody(R"({"payment_id":5077125051,"order_id":"o-1","actually_paid":0.10000000,"price_amount":"12.50",)"
                R"("order_id":"o-2","bad":"\ud800x","nested":{"a":1}})",
                true);
  ASSERT_TRUE(body);
  EXPECT_TRUE(body->is_object);
  EXPECT_EQ(body->Text("payment_id"), "5077125051");  // an integer id keeps its digits
  EXPECT_EQ(body->Text("order_id"), "o-2");           // JSON.parse keeps the last duplicate
  EXPECT_EQ(body->Find("actually_paid")->raw, "0.10000000");
  EXPECT_EQ(body->Find("price_amount")->raw, "\"12.50\"");
  EXPECT_EQ(body->Text("actually_paid"), "");     // not an identifier
  EXPECT_EQ(body->Text("bad"), "\xEF\xBF\xBDx");  // lone surrogate shown as U+FFFD
  EXPECT_EQ(body->Find("nested")->raw, "{\"a\":1}");
  EXPECT_EQ(body->canonical,
            *CanonicalJson(R"({"payment_id":5077125051,"order_id":"o-1","actually_paid":0.10000000,)"
                           R"("price_amount":"12.50","order_id":"o-2","bad":"\ud800x","nested":{"a":1}})"));
  EXPECT_FALSE(ParseBody("{\"a\":", false));
  EXPECT_FALSE(ParseBody("[1]", false)->is_object);
  EXPECT_TRUE(ParseBody("{}", false)->canonical.empty());  // only computed when asked for
}

}  // namespace
}  // namespace fg::fulfillment
